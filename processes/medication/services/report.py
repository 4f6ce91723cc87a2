"""Closing the year: the cycle report (eligible, approved, rejected with reasons, paid, failed,
coverage, money paid, per township), kept on the cycle and downloadable as .xlsx."""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import files
from ..models import CycleState, EntrySource, EntryState, LineState, PayoutLine
from .common import cycle_for_instance, locked_cycle, record, require_county_staff

APPROVED = [EntryState.FINANCE_APPROVED, EntryState.PAID, EntryState.PAYMENT_FAILED]
COLUMNS = (
    "listed",
    "continuing",
    "new",
    "flagged",
    "eligible",
    "approved",
    "rejected",
    "paid",
    "failed",
    "paid_amount",
    "coverage",
)


def _coverage(paid: int, approved: int) -> str:
    return f"{paid / approved * 100:.1f}%" if approved else "—"


def cycle_report_build(cycle) -> dict:
    """The report's figures, per township and in total (a handful of grouped queries)."""
    names = dict(cycle.townships.values_list("township__code", "township__name"))
    rows: dict[str, Counter] = defaultdict(Counter)
    entries = cycle.entries.exclude(state=EntryState.WITHDRAWN)
    grouped = entries.values_list("township__code", "state", "source", "flagged").annotate(
        n=Count("pk")
    )
    for code, state, source, flagged, n in grouped.order_by():
        row = rows[code]
        row["listed"] += n
        row["continuing" if source == EntrySource.CONTINUING else "new"] += n
        row["flagged"] += n if flagged else 0
        row["eligible"] += 0 if flagged else n
        row["approved"] += n if state in APPROVED else 0
        row["rejected"] += n if state == EntryState.TOWNSHIP_REJECTED else 0
        row["paid"] += n if state == EntryState.PAID else 0
        row["failed"] += n if state == EntryState.PAYMENT_FAILED else 0
    amounts = (
        PayoutLine.objects.filter(cycle=cycle, state=LineState.PAID)
        .values_list("entry__township__code")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    paid_amounts = {code: total for code, total in amounts}
    townships, totals = [], Counter()
    for code in sorted(set(names) | set(rows)):
        row = rows[code]
        paid_amount = (paid_amounts.get(code) or Decimal("0")).quantize(Decimal("0.01"))
        townships.append(
            {
                "code": code,
                "name": names.get(code, code),
                **{key: row[key] for key in COLUMNS[:9]},
                "paid_amount": str(paid_amount),
                "coverage": _coverage(row["paid"], row["approved"]),
            }
        )
        totals.update({key: row[key] for key in COLUMNS[:9]})
    total_paid = sum((Decimal(t["paid_amount"]) for t in townships), Decimal("0.00"))
    reasons = Counter(
        entries.filter(state=EntryState.TOWNSHIP_REJECTED).values_list("decision_reason", flat=True)
    )
    return {
        "year": cycle.year,
        "amount": str(cycle.amount),
        "townships": townships,
        "total": {
            **{key: totals[key] for key in COLUMNS[:9]},
            "paid_amount": str(total_paid),
            "coverage": _coverage(totals["paid"], totals["approved"]),
        },
        "rejection_reasons": [[reason, n] for reason, n in reasons.most_common(20)],
        "batches": list(cycle.batches.order_by("number").values_list("number", "line_count")),
    }


def cycle_close(*, cycle_id: int) -> dict:
    """The closing job: the report is computed and the cycle closed. Idempotent."""
    with transaction.atomic():
        cycle = locked_cycle(cycle_id)
        if cycle.state != CycleState.CLOSED:
            cycle.close(report=cycle_report_build(cycle))
            cycle.save()
            record(cycle, actor=None, change="closed", total=cycle.report["total"])
    total = cycle.report["total"]
    return {"paid_persons": total["paid"], "paid_amount": total["paid_amount"]}


def on_report_read(*, task, instance, user, data: dict) -> dict:
    """Completion hook of the last task: county staff have read the report; it is archived."""
    cycle = cycle_for_instance(instance)
    require_county_staff(user, cycle)
    record(cycle, actor=user, change="report_archived", note=str(data.get("note") or "")[:500])
    return {}


HEADERS = {
    "name": gettext_lazy("Township"),
    "listed": gettext_lazy("Listed"),
    "continuing": gettext_lazy("Continuing"),
    "new": gettext_lazy("New applicants"),
    "flagged": gettext_lazy("Flagged"),
    "eligible": gettext_lazy("Eligible"),
    "approved": gettext_lazy("Approved"),
    "rejected": gettext_lazy("Rejected"),
    "paid": gettext_lazy("Paid"),
    "failed": gettext_lazy("Payment failed"),
    "paid_amount": gettext_lazy("Money paid (yuan)"),
    "coverage": gettext_lazy("Coverage"),
}


def cycle_report_xlsx(cycle) -> bytes:
    """The report as a workbook: per township, rejected rows with reasons, failed payments."""
    report = cycle.report or cycle_report_build(cycle)
    keys = list(HEADERS)
    summary = [[str(HEADERS[k]) for k in keys]]
    for row in [*report["townships"], {"name": _("Total"), **report["total"]}]:
        summary.append([_number(row.get(k, "")) for k in keys])
    rejected = [[str(_("Township")), "姓名", "公民身份号码", str(_("Source")), str(_("Reason"))]]
    for township, name, citizen_id, source, reason in (
        cycle.entries.filter(state=EntryState.TOWNSHIP_REJECTED)
        .order_by("township__code", "person__name")
        .values_list(
            "township__name", "person__name", "person__citizen_id", "source", "decision_reason"
        )
        .iterator(chunk_size=2000)
    ):
        rejected.append([township, name, citizen_id, str(EntrySource(source).label), reason])
    failed = [
        [str(_("Township")), "姓名", "公民身份号码", str(_("Failure reason")), str(_("Outcome"))]
    ]
    reasons = dict(
        PayoutLine.objects.filter(cycle=cycle, state=LineState.FAILED)
        .order_by("settled_at", "pk")
        .values_list("entry_id", "failure_reason")
    )
    for pk, township, name, citizen_id, abandoned in (
        cycle.entries.filter(state=EntryState.PAYMENT_FAILED)
        .order_by("township__code", "person__name")
        .values_list(
            "pk", "township__name", "person__name", "person__citizen_id", "abandoned_reason"
        )
    ):
        failure = reasons.get(pk) or str(_("no valid bank or card account at payout"))
        failed.append([township, name, citizen_id, failure, abandoned or str(_("not paid"))])
    return files.xlsx_bytes(
        [
            (str(_("Summary")), summary),
            (str(_("Rejected")), rejected),
            (str(_("Payment failed")), failed),
        ]
    )


def _number(value):
    if isinstance(value, str) and value.replace(".", "", 1).isdigit() and "." in value:
        return Decimal(value)
    return value
