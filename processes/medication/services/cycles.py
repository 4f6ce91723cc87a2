"""Opening a year's cycle (one per year, by county staff or the 2 January timer) and changing its
rules before the comparison."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from registry.models import OrgUnit, OrgUnitKind, OrgUnitLevel
from workflows.exceptions import InvalidInput, NotAllowed
from workflows.models import ProcessInstance
from workflows.scopes import resolver
from workflows.services.instances import instance_start

from .. import conf
from ..models import (
    CycleState,
    EntrySource,
    EntryState,
    MedicationCycle,
    MedicationEntry,
    TownshipList,
)
from ..rules import amount_clean, rules_clean
from .common import PROCESS_KEY, chunks, locked_cycle, record, require_role, require_state

TOWNSHIP_KINDS = (OrgUnitKind.STREET, OrgUnitKind.TOWN, OrgUnitKind.TOWNSHIP)
RULE_FIELDS = ("include_multiple", "low_income_statuses", "excluded_schemes")


def county_for(code: str | None) -> OrgUnit:
    """The county a cycle belongs to: the unit given (or the county above it), else the
    configured county, else the registry's only county."""
    code = (code or conf.get("COUNTY") or "").strip()
    if not code:
        counties = list(OrgUnit.objects.filter(kind=OrgUnitKind.COUNTY, is_active=True)[:2])
        if len(counties) != 1:
            raise InvalidInput(
                _("Name the county (PROCESSES['MEDICATION']['COUNTY']): the registry holds %(n)s.")
                % {"n": len(counties)}
            )
        return counties[0]
    unit = OrgUnit.objects.filter(code=code).select_related("parent__parent").first()
    while unit is not None and unit.level in (OrgUnitLevel.VILLAGE, OrgUnitLevel.TOWNSHIP):
        unit = unit.parent
    if unit is None or unit.kind != OrgUnitKind.COUNTY:
        named = OrgUnit.objects.filter(code=code).values_list("name", flat=True).first()
        message = _("A medication-subsidy cycle belongs to a county; %(code)s is not in one.") % {
            "code": named or code
        }
        raise InvalidInput(message, {"org_unit": [message]})
    return unit


def _year(variables: dict) -> int:
    raw = variables.get("year")
    if raw in (None, ""):
        timer = variables.get("started_by_timer")
        moment = datetime.fromisoformat(timer) if timer else timezone.now()
        return timezone.localtime(moment).year
    try:
        year = int(raw)
    except (TypeError, ValueError):
        year = 0
    if not 2000 <= year <= 2100:
        message = _("Enter a year such as %(year)s.") % {"year": timezone.localdate().year}
        raise InvalidInput(message, {"year": [message]})
    return year


def existing_cycle_message(cycle: MedicationCycle) -> str:
    return _(
        "A medication-subsidy cycle for %(year)s already exists (opened %(day)s); a year has "
        "one cycle."
    ) % {"year": cycle.year, "day": timezone.localtime(cycle.opened_at).date().isoformat()}


def start_from_form(*, user, org_unit, business_key, variables: dict) -> ProcessInstance:
    """Every start of the procedure (portal start form, API, the yearly timer) comes here.

    A person asking for a second cycle of a year gets a 400 and nothing is written. The timer
    (``user=None``) is never refused: its instance starts, and the open-cycle step ends it at
    once with the reason recorded, so a duplicate automatic start leaves no incident."""
    year = _year(variables)
    if org_unit is None and user is not None:
        org_unit = resolver().home_scope(user)
    county = county_for(org_unit)
    require_role(
        user,
        "START_ROLE",
        county,
        _("Only county federation staff may start the county's medication-subsidy cycle."),
    )
    amount = amount_clean(variables.get("amount"))
    rules = rules_clean({k: variables[k] for k in RULE_FIELDS if k in variables})
    existing = MedicationCycle.objects.filter(year=year).first()
    if existing is not None and user is not None:
        message = existing_cycle_message(existing)
        raise InvalidInput(message, {"year": [message]})
    start_variables = {
        "year": year,
        "county": county.code,
        "amount": str(amount),
        "rules": rules,
        "opened_by": user.get_username() if user is not None else "",
    }
    if variables.get("started_by_timer"):
        start_variables["started_by_timer"] = variables["started_by_timer"]
    with transaction.atomic():
        instance = instance_start(
            process_key=PROCESS_KEY,
            user=user,
            business_key=business_key or f"YF{year}",
            org_unit=county.code,
            variables=start_variables,
            delegate=False,
        )
        opened = instance.variables.get("cycle_opened")
        if opened:
            MedicationCycle.objects.filter(pk=instance.variables["cycle_id"]).update(
                instance=instance
            )
        elif user is not None:  # lost a race with another start of the same year
            message = existing_cycle_message(MedicationCycle.objects.get(year=year))
            raise InvalidInput(message, {"year": [message]})
        else:
            cycle = MedicationCycle.objects.get(year=year)
            record(
                cycle,
                actor=None,
                change="duplicate_start_refused",
                instance=instance.pk,
                reason=instance.variables.get("refusal", ""),
            )
    return instance


def _end_of_day(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=timezone.get_current_timezone())


def deadline(year: int, setting: str, *, now: datetime) -> datetime:
    """The configured month-day of ``year``; for a cycle started after it, a later fallback."""
    month, day = (int(part) for part in conf.get(setting).split("-"))
    moment = _end_of_day(date(year, month, day))
    if moment < now:
        fallback = conf.get("FALLBACK_DAYS")[setting]
        moment = _end_of_day(timezone.localtime(now).date() + timedelta(days=fallback))
    return moment


def townships_of(county: OrgUnit) -> list[OrgUnit]:
    return list(
        OrgUnit.objects.filter(parent=county, kind__in=TOWNSHIP_KINDS, is_active=True).order_by(
            "code"
        )
    )


def cycle_open(*, variables: dict) -> dict:
    """The open-cycle service task: create the year's cycle, its township lists and last year's
    recipients as continuing entries; or refuse a second cycle of the year (``cycle_opened``
    false and the reason in ``refusal``)."""
    year = int(variables["year"])
    existing = MedicationCycle.objects.filter(year=year).first()
    if existing is not None:
        return {"cycle_opened": False, "refusal": existing_cycle_message(existing)}
    county = county_for(variables.get("county"))
    opened_by = None
    if variables.get("opened_by"):
        opened_by = get_user_model().objects.filter(username=variables["opened_by"]).first()
    try:
        with transaction.atomic():
            cycle = MedicationCycle.objects.create(
                year=year,
                county=county,
                amount=amount_clean(variables.get("amount")),
                rules=rules_clean(variables.get("rules")),
                opened_by=opened_by,
            )
    except IntegrityError:
        existing = MedicationCycle.objects.get(year=year)
        return {"cycle_opened": False, "refusal": existing_cycle_message(existing)}
    townships = townships_of(county)
    TownshipList.objects.bulk_create(TownshipList(cycle=cycle, township=t) for t in townships)
    continuing = _carry_over(cycle, {t.pk for t in townships})
    now = timezone.now()
    record(
        cycle,
        actor=opened_by,
        change="opened",
        amount=str(cycle.amount),
        rules=cycle.rules,
        continuing=continuing,
        timer=bool(variables.get("started_by_timer")),
    )
    return {
        "cycle_opened": True,
        "cycle_id": cycle.pk,
        "townships": [t.code for t in townships],
        "survey_due": deadline(year, "SURVEY_DUE", now=now).isoformat(),
        "comparison_due": deadline(year, "COMPARISON_DUE", now=now).isoformat(),
        "review_due": deadline(year, "REVIEW_DUE", now=now).isoformat(),
    }


def _carry_over(cycle: MedicationCycle, townships: set[int]) -> int:
    """Last year's paid recipients become this year's continuing entries (one INSERT per 2,000)."""
    previous = MedicationCycle.objects.filter(year=cycle.year - 1).first()
    if previous is None:
        return 0
    rows = (
        MedicationEntry.objects.filter(cycle=previous, state=EntryState.PAID)
        .values_list("person_id", "person__household_unit__parent_id", "township_id")
        .order_by("pk")
    )
    entries = [
        MedicationEntry(
            cycle=cycle,
            person_id=person_id,
            township_id=now_in if now_in in townships else before,
            source=EntrySource.CONTINUING,
            amount=cycle.amount,
        )
        for person_id, now_in, before in rows.iterator(chunk_size=5000)
    ]
    for chunk in chunks(entries, 2000):
        MedicationEntry.objects.bulk_create(chunk)
    return len(entries)


def cycle_rules_change(*, user, cycle_id: int, amount, rules: dict) -> MedicationCycle:
    """A process owner sets this cycle's amount and eligibility rules (until the comparison)."""
    with transaction.atomic():
        cycle = locked_cycle(cycle_id)
        require_role(
            user,
            "RULES_ROLE",
            cycle.county,
            _("Only the process owner may change a cycle's rules and amount."),
        )
        if user is None:
            raise NotAllowed(_("Only the process owner may change a cycle's rules and amount."))
        require_state(cycle, CycleState.SURVEYING)
        before = {"amount": str(cycle.amount), "rules": cycle.rules}
        cycle.amount, cycle.rules = amount_clean(amount), rules_clean(rules)
        cycle.save(update_fields=["amount", "rules"])
        cycle.entries.filter(state=EntryState.SURVEYED).update(amount=cycle.amount)
        record(
            cycle,
            actor=user,
            change="rules_changed",
            before=before,
            after={"amount": str(cycle.amount), "rules": cycle.rules},
        )
    return cycle
