"""Reads for the medication subsidy's screens, with the rule of who sees what:

* county staff, the process owner and auditors (read-only) see every township's list;
* township staff see only the lists of the townships their role reaches;
* the finance bureau sees totals by township, never the persons.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from registry.models import OrgUnit
from workflows.models import AuditEvent
from workflows.services.access import grants_for, reads_everything

from . import conf
from .figures import township_figures
from .models import (
    EntryFlag,
    EntryState,
    MedicationCycle,
    MedicationEntry,
    TownshipList,
)
from .services.common import stream

LIST_WIDE_ROLES = ("APPROVAL_ROLE", "RULES_ROLE")


def _roles(user, unit: OrgUnit, *settings: str) -> bool:
    if user is None or not user.is_authenticated:
        return False
    roles = {conf.get(s) for s in settings}
    return user.is_superuser or any(
        g.role in roles and unit.path.startswith(g.path) for g in grants_for(user)
    )


def sees_every_list(user, cycle: MedicationCycle) -> bool:
    return reads_everything(user) or _roles(user, cycle.county, *LIST_WIDE_ROLES)


def sees_totals(user, cycle: MedicationCycle) -> bool:
    return sees_every_list(user, cycle) or _roles(user, cycle.county, "FINANCE_ROLE")


def downloads_bank_files(user, cycle: MedicationCycle) -> bool:
    """Bank files carry full card numbers (the bank needs them): only finance downloads them."""
    return _roles(user, cycle.county, "FINANCE_ROLE")


def township_lists_for(user, cycle: MedicationCycle) -> list[TownshipList]:
    """The township lists whose rows the user may read (none for finance)."""
    lists = list(cycle.townships.select_related("township").order_by("township__code"))
    if sees_every_list(user, cycle):
        return lists
    return [t for t in lists if _roles(user, t.township, "REVIEW_ROLE")]


def can_read_cycle(user, cycle: MedicationCycle) -> bool:
    return sees_totals(user, cycle) or bool(township_lists_for(user, cycle))


def can_read_entries(user, cycle: MedicationCycle, township: OrgUnit) -> bool:
    return sees_every_list(user, cycle) or _roles(user, township, "REVIEW_ROLE")


def cycles_for_user(user) -> list[MedicationCycle]:
    cycles = MedicationCycle.objects.select_related("county").order_by("-year")
    return [c for c in cycles if can_read_cycle(user, c)]


FILTERS = {
    "all": Q(),
    "flagged": Q(flagged=True),
    "undecided": Q(state=EntryState.COMPARED),
    "approved": Q(state=EntryState.TOWNSHIP_APPROVED),
    "rejected": Q(state=EntryState.TOWNSHIP_REJECTED),
}


def review_rows(
    cycle: MedicationCycle, township: OrgUnit, *, show: str = "all", search: str = ""
) -> QuerySet[MedicationEntry]:
    """A township's rows for review: flagged and undecided first, then by name."""
    rows = (
        cycle.entries.filter(township=township)
        .exclude(state=EntryState.WITHDRAWN)
        .filter(FILTERS.get(show, Q()))
        .select_related("person__household_unit", "decided_by")
        .prefetch_related(Prefetch("flags", queryset=EntryFlag.objects.order_by("pk")))
    )
    if search:
        rows = rows.filter(Q(person__name__contains=search) | Q(person__citizen_id=search.upper()))
    return rows.order_by("-flagged", "state", "person__name", "pk")


def review_counts(cycle: MedicationCycle, township: OrgUnit) -> dict[str, int]:
    rows = cycle.entries.filter(township=township).exclude(state=EntryState.WITHDRAWN)
    counts = rows.aggregate(
        n_all=Count("pk"),
        n_flagged=Count("pk", filter=Q(flagged=True)),
        n_undecided=Count("pk", filter=Q(state=EntryState.COMPARED)),
        n_undecided_unflagged=Count("pk", filter=Q(state=EntryState.COMPARED, flagged=False)),
        n_approved=Count("pk", filter=Q(state=EntryState.TOWNSHIP_APPROVED)),
        n_rejected=Count("pk", filter=Q(state=EntryState.TOWNSHIP_REJECTED)),
    )
    return {k.removeprefix("n_"): v or 0 for k, v in counts.items()}


def township_overview_total(cycle: MedicationCycle) -> tuple[list[dict], dict]:
    """Per township: its list (None for a township with entries but no list) and its figures,
    and the totals; the same numbers the cycle report shows (``figures.township_figures``)."""
    lists = {t.township_id: t for t in cycle.townships.all()}
    rows, total = township_figures(cycle)
    return [{"list": lists.get(unit.pk), "township": unit, **row} for unit, row in rows], total


def township_overview(cycle: MedicationCycle) -> list[dict]:
    return township_overview_total(cycle)[0]


def township_totals(cycle: MedicationCycle, state: str) -> tuple[list[dict], dict]:
    """Persons × amount = total per township for the entries in ``state``, and the sum."""
    names = dict(cycle.townships.values_list("township__code", "township__name"))
    grouped = (
        cycle.entries.filter(state=state)
        .values_list("township__code", "amount")
        .annotate(persons=Count("pk"), total=Sum("amount"))
        .order_by("township__code", "amount")
    )
    cents = Decimal("0.01")
    rows = [
        {
            "code": code,
            "name": names.get(code, code),
            "persons": persons,
            "amount": amount.quantize(cents),
            "total": total.quantize(cents),
        }
        for code, amount, persons, total in grouped
    ]
    grand = {
        "persons": sum(r["persons"] for r in rows),
        "total": sum((r["total"] for r in rows), Decimal("0.00")),
    }
    return rows, grand


def new_applicants(cycle: MedicationCycle, township: OrgUnit) -> QuerySet[MedicationEntry]:
    return (
        cycle.entries.filter(township=township, source="new")
        .exclude(state=EntryState.WITHDRAWN)
        .select_related("person__household_unit", "added_by")
        .order_by("-added_at", "-pk")
    )


def failed_payments(cycle: MedicationCycle, township: OrgUnit) -> QuerySet[MedicationEntry]:
    return (
        cycle.entries.filter(township=township, state=EntryState.PAYMENT_FAILED)
        .select_related("person__card_account")
        .prefetch_related("lines")
        .order_by("person__name", "pk")
    )


def entry_history(entry: MedicationEntry) -> list[AuditEvent]:
    """The cycle's audit events that name this entry (its own or a bulk action's list)."""
    events = AuditEvent.objects.filter(stream=stream(entry.cycle_id)).order_by("sequence")
    found = []
    for event in events.iterator(chunk_size=500):
        payload = event.payload or {}
        lists = [payload.get(key) for key in ("entries", "paid", "failed", "flagged_entries")]
        if any(isinstance(ids, list) and entry.pk in ids for ids in lists):
            found.append(event)
    return found


def batch_counts(batch) -> dict[str, int]:
    """A batch's lines by state (pending, paid, failed), one query."""
    from .models import LineState

    counts = batch.lines.aggregate(
        **{state: Count("pk", filter=Q(state=state)) for state in LineState.values}
    )
    return {k: v or 0 for k, v in counts.items()}
