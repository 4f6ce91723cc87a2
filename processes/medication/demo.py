"""Demo data for the medication subsidy: last year's cycle in the demo county, closed and paid,
so that this year's cycle (started by county staff, or by the 2 January timer) has continuing
recipients to compare. Run after ``load_demo``; idempotent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from registry.models import Certificate, LowIncomeStatus, Person

from .models import CycleState, EntrySource, EntryState, MedicationCycle, MedicationEntry
from .rules import Reference, amount_clean, findings_for, rules_default
from .services.common import chunks
from .services.cycles import county_for, townships_of
from .services.facts import person_facts

NEW_EVERY = 8  # one in eight of today's eligible persons is "newly eligible" this year


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
    from django.contrib.auth import get_user_model

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


@transaction.atomic
def demo_medication_load(*, year: int | None = None) -> DemoMedicationSummary:
    """Create the closed cycle of ``year`` - 1 (default: last year) with its paid recipients:
    the demo persons who qualified then, less one in eight, who are this year's new applicants."""
    year = year or timezone.localdate().year
    previous = year - 1
    candidates = list(
        psychiatric_poor_persons().order_by("pk").values_list("pk", "household_unit__parent_id")
    )
    facts = person_facts([pk for pk, _unit in candidates])
    rules, today = rules_default(), timezone.localdate()
    eligible = [
        pk for pk, _unit in candidates if not findings_for(facts[pk], rules, Reference(), today)
    ]
    newly = eligible[3::NEW_EVERY]
    county = county_for(None)
    officers = demo_township_officers(county)
    existing = MedicationCycle.objects.filter(year=previous).first()
    if existing is not None:
        count = existing.entries.count()
        return DemoMedicationSummary(previous, count, newly, False, officers)
    townships = {t.pk for t in townships_of(county)}
    opened = datetime.combine(
        timezone.localdate().replace(year=previous, month=1, day=2),
        time(8),
        tzinfo=timezone.get_current_timezone(),
    )
    amount = amount_clean(None)
    cycle = MedicationCycle.objects.create(
        year=previous,
        county=county,
        amount=amount,
        rules=rules_default(),
        state=CycleState.CLOSED,
        opened_at=opened,
        closed_at=opened.replace(month=6, day=30),
        report={"imported": True},
    )
    skip = set(newly)
    entries = [
        MedicationEntry(
            cycle=cycle,
            person_id=pk,
            township_id=unit,
            source=EntrySource.CONTINUING,
            amount=amount,
            state=EntryState.PAID,
            added_at=opened,
        )
        for pk, unit in candidates
        if pk not in skip and unit in townships
    ]
    for chunk in chunks(entries, 2000):
        MedicationEntry.objects.bulk_create(chunk)
    cycle.report = {
        "imported": True,
        "paid": len(entries),
        "paid_amount": str((amount * len(entries)).quantize(Decimal("0.01"))),
    }
    cycle.save(update_fields=["report"])
    return DemoMedicationSummary(previous, len(entries), newly, True, officers)
