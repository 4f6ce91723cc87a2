"""Demo data for the medication subsidy: last year's cycle in the demo county, closed and paid,
so that this year's cycle (started by county staff, or by the 2 January timer) has continuing
recipients to compare, and its figures (the township table, the report and its .xlsx) to read.
Run after ``load_demo``; idempotent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext

from registry.models import Certificate, LowIncomeStatus, Person

from .models import (
    CycleState,
    EntryFlag,
    EntrySource,
    EntryState,
    FlagKind,
    MedicationCycle,
    MedicationEntry,
    TownshipList,
    TownshipListState,
)
from .rules import Reference, amount_clean, findings_for, rules_default
from .services.common import chunks
from .services.cycles import county_for, townships_of
from .services.facts import person_facts

NEW_EVERY = 8  # one in eight of today's eligible persons is "newly eligible" this year
REJECTED_EACH = 4  # last year's rejected applicants, of each kind
NO_CARD = FlagKind.NO_CARD
GIVEN_UP = "未办理银行卡，本人放弃本年度补助"  # as a township officer wrote it
DEMO_APPROVERS = ("county", "finance")


@dataclass
class DemoMedicationSummary:
    year: int
    recipients: int
    newly_eligible: list[int]
    created: bool
    officers: list[tuple[str, str]] = field(default_factory=list)  # (username, township)


def demo_township_officers(county) -> list[tuple[str, str]]:
    """A township officer for every township the demo staff leave without one, so that every
    township's survey and review can be worked. Returns (username, township name) of all."""
    from registry.demo import DEMO_PASSWORD
    from registry.models import Membership
    from registry.services.memberships import membership_grant

    staffed = dict(
        Membership.objects.filter(role="township_staff", org_unit__parent=county).values_list(
            "org_unit_id", "user__username"
        )
    )
    officers = []
    for township in townships_of(county):
        username = staffed.get(township.pk)
        if username is None:
            username = f"township_{township.code[6:9]}"
            user, created = get_user_model().objects.get_or_create(username=username)
            if created:
                user.last_name = f"{township.name}残联 专职委员"
                user.set_password(DEMO_PASSWORD)
                user.save()
            membership_grant(user=user, role="township_staff", org_unit=township)
        officers.append((username, township.name))
    return officers


def psychiatric_poor_persons():
    """Persons with a certificate (any state) covering 精神 and a low-income status, ever."""
    covering = Certificate.objects.filter(
        Q(category=6) | Q(category=7, included_categories__contains="6")
    ).values("person_id")
    return Person.objects.filter(pk__in=covering).exclude(low_income_status=LowIncomeStatus.NONE)


def _rejected_applicants(townships: set[int], rules: dict, today) -> list[tuple]:
    """Last year's new applicants the townships rejected: persons with a 精神 certificate but
    no low-income status, and low-income persons whose certificate does not cover 精神; a few of
    each, spread over the registry. Returns (person, township, reason, findings)."""
    covering = Certificate.objects.filter(
        Q(category=6) | Q(category=7, included_categories__contains="6")
    ).values("person_id")
    with translation.override(settings.LANGUAGE_CODE):  # reasons and details are kept as text
        kinds = (
            (
                Person.objects.filter(pk__in=covering, low_income_status=LowIncomeStatus.NONE),
                gettext("no low-income status"),
            ),
            (
                Person.objects.exclude(pk__in=covering)
                .exclude(low_income_status=LowIncomeStatus.NONE)
                .filter(pk__in=Certificate.objects.values("person_id")),
                str(FlagKind.NOT_PSYCHIATRIC.label),
            ),
        )
        picked = []
        for persons, reason in kinds:
            rows = [
                (pk, unit, reason)
                for pk, unit in persons.order_by("pk").values_list(
                    "pk", "household_unit__parent_id"
                )
                if unit in townships
            ]
            picked += rows[:: max(1, len(rows) // REJECTED_EACH)][:REJECTED_EACH]
        facts = person_facts([pk for pk, _unit, _reason in picked])
        found = [
            (pk, unit, reason, findings_for(facts[pk], rules, Reference(), today))
            for pk, unit, reason in picked
        ]
    return [row for row in found if row[3]]


def _finished_lists(cycle: MedicationCycle, townships: list, at) -> None:
    """Every township's list, submitted (townships the imported year lacks one for)."""
    have = set(cycle.townships.values_list("township_id", flat=True))
    TownshipList.objects.bulk_create(
        TownshipList(
            cycle=cycle,
            township=t,
            state=TownshipListState.SUBMITTED,
            survey_submitted_at=at,
            submitted_at=at,
        )
        for t in townships
        if t.pk not in have
    )


def _close_with_report(cycle: MedicationCycle) -> None:
    """The report the closing job keeps (the same builder); the approvals' persons and totals."""
    from .services.report import cycle_report_build

    report = cycle_report_build(cycle)
    total = report["total"]
    cycle.county_approved_persons = total["approved"]
    cycle.county_approved_total = Decimal(total["approved_amount"])
    cycle.finance_approved_total = Decimal(total["approved_amount"])
    cycle.report = {**report, "imported": True}
    cycle.save()


@transaction.atomic
def demo_medication_load(*, year: int | None = None) -> DemoMedicationSummary:
    """Create the closed cycle of ``year`` - 1 (default: last year), as the year's services
    would have left it: every township's list submitted, the demo persons who qualified then
    paid (less one in eight, who are this year's new applicants, and one whose payment failed
    and was given up), a few new applicants rejected with their reasons, and the closing report
    built by the report service. An existing imported year without its report gets one."""
    year = year or timezone.localdate().year
    previous = year - 1
    candidates = list(
        psychiatric_poor_persons().order_by("pk").values_list("pk", "household_unit__parent_id")
    )
    facts = person_facts([pk for pk, _unit in candidates])
    rules, today = rules_default(), timezone.localdate()
    findings = {pk: findings_for(facts[pk], rules, Reference(), today) for pk, _unit in candidates}
    eligible = [pk for pk, _unit in candidates if not findings[pk]]
    newly = eligible[3::NEW_EVERY]
    county = county_for(None)
    officers = demo_township_officers(county)
    township_units = townships_of(county)
    townships = {t.pk for t in township_units}
    existing = MedicationCycle.objects.filter(year=previous).first()
    if existing is not None:
        if existing.report.get("imported") and "townships" not in existing.report:
            _finished_lists(existing, township_units, existing.closed_at or existing.opened_at)
            _close_with_report(existing)
        count = existing.entries.filter(state=EntryState.PAID).count()
        return DemoMedicationSummary(previous, count, newly, False, officers)
    opened = datetime.combine(
        timezone.localdate().replace(year=previous, month=1, day=2),
        time(8),
        tzinfo=timezone.get_current_timezone(),
    )
    amount = amount_clean(None)
    users = {u.username: u for u in get_user_model().objects.filter(username__in=DEMO_APPROVERS)}
    cycle = MedicationCycle.objects.create(
        year=previous,
        county=county,
        amount=amount,
        rules=rules_default(),
        state=CycleState.CLOSED,
        opened_at=opened,
        compared_at=opened.replace(month=3, day=31),
        county_approved_by=users.get("county"),
        county_approved_at=opened.replace(month=4, day=30),
        finance_approved_by=users.get("finance"),
        finance_approved_at=opened.replace(month=5, day=20),
        closed_at=opened.replace(month=6, day=30),
        report={"imported": True},
    )
    _finished_lists(cycle, township_units, opened.replace(month=4, day=15))
    skip = set(newly)
    listed = [(pk, unit) for pk, unit in candidates if pk not in skip and unit in townships]
    given_up = next((pk for pk, _unit in listed if NO_CARD in _kinds(findings[pk])), None)
    entries = [
        MedicationEntry(
            cycle=cycle,
            person_id=pk,
            township_id=unit,
            source=EntrySource.CONTINUING,
            amount=amount,
            state=EntryState.PAYMENT_FAILED if pk == given_up else EntryState.PAID,
            abandoned_reason=GIVEN_UP if pk == given_up else "",
            added_at=opened,
        )
        for pk, unit in listed
    ]
    for chunk in chunks(entries, 2000):
        MedicationEntry.objects.bulk_create(chunk)
    _reject(cycle, _rejected_applicants(townships, rules, today), at=opened.replace(month=2))
    _close_with_report(cycle)
    paid = len(entries) - (given_up is not None)
    return DemoMedicationSummary(previous, paid, newly, True, officers)


def _kinds(findings) -> set[str]:
    return {f.kind for f in findings}


def _reject(cycle: MedicationCycle, rejected: list[tuple], *, at) -> None:
    """The rejected applicants' rows: flagged by the comparison, rejected with the reason."""
    entries = MedicationEntry.objects.bulk_create(
        MedicationEntry(
            cycle=cycle,
            person_id=pk,
            township_id=unit,
            source=EntrySource.NEW,
            amount=cycle.amount,
            state=EntryState.TOWNSHIP_REJECTED,
            flagged=True,
            survey_check=[f.as_dict() for f in found],
            added_at=at,
            decided_at=at.replace(month=4),
            decision_reason=reason,
        )
        for pk, unit, reason, found in rejected
    )
    EntryFlag.objects.bulk_create(
        EntryFlag(entry_id=entry.pk, kind=f.kind, detail=f.detail[:300], source_name=f.source_name)
        for entry, (*_row, found) in zip(entries, rejected, strict=True)
        for f in found
    )
