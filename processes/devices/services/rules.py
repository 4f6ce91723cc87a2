"""The procedure's rules, as plain functions the steps call: who is a child, whose certificate
is valid, when a device may be had again, how much of a child's yearly cap is used, which
institutions may fit which categories."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Sum
from django.utils.translation import gettext as _

from registry.models import Certificate, CertificateStatus, OrgUnit, OrgUnitKind, Person

from .. import conf
from ..models import (
    APPROVED_STATES,
    FITTED_STATES,
    OPEN_STATES,
    Device,
    DeviceApplication,
    PlanItem,
    ServiceAgreement,
)


def age_on(birth_date: date, day: date) -> int:
    years = day.year - birth_date.year
    return years - ((day.month, day.day) < (birth_date.month, birth_date.day))


def is_child(person: Person, day: date) -> bool:
    return age_on(person.birth_date, day) < conf.get("CHILD_AGE")


def valid_certificate(person: Person, day: date) -> Certificate | None:
    """The person's certificate in force on ``day`` (valid or expiring, not past its date)."""
    return (
        Certificate.objects.filter(
            person=person,
            status__in=[CertificateStatus.VALID, CertificateStatus.EXPIRING],
            valid_until__gte=day,
        )
        .order_by("-valid_until")
        .first()
    )


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def usage_period_problems(
    person: Person, devices: list[Device], day: date, *, exclude: int | None = None
) -> list[str]:
    """Why the person may not have these devices now: the usage period since the last one
    has not passed, or another application for the same device is under way."""
    problems = []
    codes = {d.code for d in devices}
    fitted = (
        PlanItem.objects.filter(
            application__person=person,
            application__state__in=FITTED_STATES,
            device__code__in=codes,
        )
        .exclude(application_id=exclude)
        .select_related("device", "application")
        .order_by("-application__fitted_on")
    )
    seen = set()
    for item in fitted:
        if item.device.code in seen or item.application.fitted_on is None:
            continue
        seen.add(item.device.code)
        again = add_months(item.application.fitted_on, item.device.usage_months)
        if day < again:
            problems.append(
                _(
                    "%(device)s was fitted on %(fitted)s (%(number)s); its usage period of "
                    "%(months)s months runs until %(again)s."
                )
                % {
                    "device": item.device.name,
                    "fitted": item.application.fitted_on.isoformat(),
                    "number": item.application.number,
                    "months": item.device.usage_months,
                    "again": again.isoformat(),
                }
            )
    names = {d.code: d.name for d in devices}
    open_applications = DeviceApplication.objects.filter(person=person, state__in=OPEN_STATES)
    for other in open_applications.exclude(pk=exclude).prefetch_related("plan_items__device"):
        wanted = set(other.requested_devices or []) | {
            i.device.code for i in other.plan_items.all()
        }
        for code in sorted(wanted & codes - seen):
            problems.append(
                _("%(device)s is already asked for in application %(number)s, still under way.")
                % {"device": names[code], "number": other.number}
            )
    return problems


def cap_used(person: Person, year: int, *, exclude: int | None = None) -> Decimal:
    """The subsidy granted to the person in applications approved in ``year``."""
    total = (
        DeviceApplication.objects.filter(
            person=person, approval_year=year, state__in=APPROVED_STATES
        )
        .exclude(pk=exclude)
        .aggregate(total=Sum("subsidy_granted"))["total"]
    )
    return total or Decimal("0.00")


@dataclass(frozen=True)
class Provider:
    """A service institution that may fit every category of a plan on a day, and under which
    agreements."""

    institution: OrgUnit
    agreements: list[ServiceAgreement]


def providers_for(categories: set[str], day: date) -> list[Provider]:
    """Institutions holding, on ``day``, agreements in force that cover each category."""
    agreements = ServiceAgreement.objects.filter(
        valid_from__lte=day, valid_until__gte=day, institution__is_active=True
    ).select_related("institution")
    by_institution: dict[int, list[ServiceAgreement]] = {}
    for agreement in agreements:
        if agreement.in_force_on(day):
            by_institution.setdefault(agreement.institution_id, []).append(agreement)
    found = []
    for held in by_institution.values():
        covering = [a for a in held if set(a.categories or []) & categories]
        if all(any(c in (a.categories or []) for a in held) for c in categories):
            found.append(Provider(held[0].institution, covering))
    return sorted(found, key=lambda p: p.institution.code)


def provider_for(code: str, categories: set[str], day: date) -> Provider | None:
    return next((p for p in providers_for(categories, day) if p.institution.code == code), None)


def assessment_institutions() -> list[OrgUnit]:
    return list(
        OrgUnit.objects.filter(
            kind__in=[OrgUnitKind.ASSESSMENT, OrgUnitKind.HOSPITAL], is_active=True
        ).order_by("code")
    )
