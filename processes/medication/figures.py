"""A cycle's figures per township and in total, read from its entries: the one source of the
cycle page's township table, the county's overview and the closing report (kept on the cycle
and downloaded as .xlsx), so the three always agree.

An entry counts as approved from the township's approval on, whatever stage it reached since
(county approved, finance approved, paid, payment failed): approving the list moves its entries
on, it does not take them out of the approved. Money paid is the amount of the entries the bank
paid (a paid entry has exactly one paid payout line, of the entry's amount)."""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal

from django.db.models import Count, Sum
from django.utils.translation import gettext as _

from registry.models import OrgUnit

from .models import EntrySource, EntryState, MedicationCycle

APPROVED = frozenset(
    {
        EntryState.TOWNSHIP_APPROVED,
        EntryState.COUNTY_APPROVED,
        EntryState.FINANCE_APPROVED,
        EntryState.PAID,
        EntryState.PAYMENT_FAILED,
    }
)
UNDECIDED = frozenset({EntryState.SURVEYED, EntryState.COMPARED})
COUNTS = (
    "listed",
    "continuing",
    "new",
    "flagged",
    "eligible",
    "reviewed",
    "undecided",
    "approved",
    "rejected",
    "paid",
    "failed",
)
MONEY = ("approved_amount", "paid_amount")
CENTS = Decimal("0.01")


def coverage(paid: int, approved: int) -> str:
    """Paid persons per approved person, as shown in the report."""
    return f"{paid / approved * 100:.1f}%" if approved else "—"


def _count(row: Counter, money: dict, state: str, source: str, flagged: bool, n: int, amount):
    row["listed"] += n
    row["continuing" if source == EntrySource.CONTINUING else "new"] += n
    row["flagged" if flagged else "eligible"] += n
    if state in UNDECIDED:
        row["undecided"] += n
        return
    row["reviewed"] += n
    if state == EntryState.TOWNSHIP_REJECTED:
        row["rejected"] += n
        return
    row["approved"] += n
    money["approved_amount"] += amount
    if state == EntryState.PAID:
        row["paid"] += n
        money["paid_amount"] += amount
    elif state == EntryState.PAYMENT_FAILED:
        row["failed"] += n


def _reasons(cycle: MedicationCycle) -> dict[int, Counter]:
    """Rejected persons by township and reason (the reason as the township wrote it)."""
    by_township: dict[int, Counter] = defaultdict(Counter)
    grouped = (
        cycle.entries.filter(state=EntryState.TOWNSHIP_REJECTED)
        .values_list("township_id", "decision_reason")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for township_id, reason, n in grouped:
        by_township[township_id][" ".join(reason.split()) or _("no reason given")] += n
    return by_township


def _ranked(reasons: Counter) -> list[list]:
    return [[reason, n] for reason, n in sorted(reasons.items(), key=lambda r: (-r[1], r[0]))]


def _figures(counts: Counter, money: dict, reasons: Counter) -> dict:
    return {
        **{key: counts[key] for key in COUNTS},
        **{key: str(money[key].quantize(CENTS)) for key in MONEY},
        "coverage": coverage(counts["paid"], counts["approved"]),
        "rejection_reasons": _ranked(reasons),
    }


def township_figures(cycle: MedicationCycle) -> tuple[list[tuple[OrgUnit, dict]], dict]:
    """Per township (every township with a list or with entries, by code) its figures, and the
    totals: three queries whatever the size of the list."""
    counts: dict[int, Counter] = defaultdict(Counter)
    money: dict[int, dict] = defaultdict(lambda: dict.fromkeys(MONEY, Decimal("0")))
    grouped = (
        cycle.entries.exclude(state=EntryState.WITHDRAWN)
        .values_list("township_id", "state", "source", "flagged")
        .annotate(n=Count("pk"), amount=Sum("amount"))
        .order_by()
    )
    for township_id, state, source, flagged, n, amount in grouped:
        _count(counts[township_id], money[township_id], state, source, flagged, n, amount)
    reasons = _reasons(cycle)
    ids = set(cycle.townships.values_list("township_id", flat=True)) | set(counts)
    units = OrgUnit.objects.filter(pk__in=ids).order_by("code")
    rows = [(unit, _figures(counts[unit.pk], money[unit.pk], reasons[unit.pk])) for unit in units]
    total_counts, total_money = Counter(), dict.fromkeys(MONEY, Decimal("0"))
    total_reasons = Counter()
    for unit in units:
        total_counts.update(counts[unit.pk])
        total_reasons.update(reasons[unit.pk])
        for key in MONEY:
            total_money[key] += money[unit.pk][key]
    return rows, _figures(total_counts, total_money, total_reasons)


def cycle_figures(cycle: MedicationCycle) -> dict:
    """The figures as plain data (kept in the cycle's report): ``townships`` (each with its
    ``code`` and ``name``), ``total`` and the rejection reasons of the whole county."""
    rows, total = township_figures(cycle)
    return {
        "townships": [{"code": u.code, "name": u.name, **figures} for u, figures in rows],
        "total": total,
        "rejection_reasons": total["rejection_reasons"],
    }
