"""Closing the year: the cycle report (eligible, approved, rejected with reasons, paid, failed,
coverage, money paid, per township), kept on the cycle and downloadable as .xlsx."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from registry.masking import CITIZEN_ID, mask

from .. import files
from ..figures import cycle_figures
from ..models import CycleState, EntrySource, EntryState, LineState, PayoutLine
from .common import cycle_for_instance, locked_cycle, record, require_county_staff

REPORT_VERSION = 2  # a report kept in another layout (or none) is built again when read


def cycle_report_build(cycle) -> dict:
    """The report: the cycle's figures per township and in total (``figures.cycle_figures``,
    the numbers the cycle page shows), the rejection reasons and the payout batches."""
    return {
        "version": REPORT_VERSION,
        "year": cycle.year,
        "amount": str(cycle.amount),
        **cycle_figures(cycle),
        "batches": list(cycle.batches.order_by("number").values_list("number", "line_count")),
    }


def cycle_report(cycle) -> dict:
    """The report kept when the cycle closed; built now for a cycle still running, and for one
    whose kept report lacks figures (an older layout, or an imported year's summary). A closed
    cycle's entries no longer change, so building again gives the figures it closed with."""
    kept = cycle.report or {}
    if kept.get("version") == REPORT_VERSION:
        return kept
    return cycle_report_build(cycle)


def cycle_close(*, cycle_id: int) -> dict:
    """The closing job: the report is computed and the cycle closed. Idempotent."""
    with transaction.atomic():
        cycle = locked_cycle(cycle_id)
        if cycle.state != CycleState.CLOSED:
            cycle.close(report=cycle_report_build(cycle))
            cycle.save()
            total = {k: v for k, v in cycle.report["total"].items() if k != "rejection_reasons"}
            record(cycle, actor=None, change="closed", total=total)
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
    "reviewed": gettext_lazy("Reviewed"),
    "approved": gettext_lazy("Approved"),
    "rejected": gettext_lazy("Rejected"),
    "paid": gettext_lazy("Paid"),
    "failed": gettext_lazy("Payment failed"),
    "approved_amount": gettext_lazy("Money approved (yuan)"),
    "paid_amount": gettext_lazy("Money paid (yuan)"),
    "coverage": gettext_lazy("Coverage"),
}


def cycle_report_xlsx(cycle, *, persons: bool = True) -> bytes:
    """The report as a workbook: the figures per township with the total, the rejection reasons
    per township; with ``persons`` also the rejected rows and the failed payments (citizen IDs
    masked). Whoever reads only totals (the finance bureau) gets the first two sheets."""
    report = cycle_report(cycle)
    sheets = [
        (str(_("Summary")), _summary_rows(report)),
        (str(_("Rejection reasons")), _reason_rows(report)),
    ]
    if persons:
        sheets += [
            (str(_("Rejected")), _rejected_rows(cycle)),
            (str(_("Payment failed")), _failed_rows(cycle)),
        ]
    return files.xlsx_bytes(sheets)


def _summary_rows(report: dict) -> list[list]:
    keys = list(HEADERS)
    rows = [[str(HEADERS[k]) for k in keys]]
    for row in [*report["townships"], {**report["total"], "name": _("Total")}]:
        rows.append([_number(row.get(k, "")) for k in keys])
    return rows


def _reason_rows(report: dict) -> list[list]:
    rows = [[str(_("Township")), str(_("Reason")), str(_("Persons"))]]
    for township in report["townships"]:
        rows += [[township["name"], reason, n] for reason, n in township["rejection_reasons"]]
    rows += [[_("Total"), reason, n] for reason, n in report["total"]["rejection_reasons"]]
    return rows


def _rejected_rows(cycle) -> list[list]:
    rows = [[str(_("Township")), "姓名", "公民身份号码", str(_("Source")), str(_("Reason"))]]
    for township, name, citizen_id, source, reason in (
        cycle.entries.filter(state=EntryState.TOWNSHIP_REJECTED)
        .order_by("township__code", "person__name", "pk")
        .values_list(
            "township__name", "person__name", "person__citizen_id", "source", "decision_reason"
        )
        .iterator(chunk_size=2000)
    ):
        source_label = str(EntrySource(source).label)
        rows.append([township, name, mask(citizen_id, CITIZEN_ID), source_label, reason])
    return rows


def _failed_rows(cycle) -> list[list]:
    rows = [
        [str(_("Township")), "姓名", "公民身份号码", str(_("Failure reason")), str(_("Outcome"))]
    ]
    reasons = dict(
        PayoutLine.objects.filter(cycle=cycle, state=LineState.FAILED)
        .order_by("settled_at", "pk")
        .values_list("entry_id", "failure_reason")
    )
    for pk, township, name, citizen_id, abandoned in (
        cycle.entries.filter(state=EntryState.PAYMENT_FAILED)
        .order_by("township__code", "person__name", "pk")
        .values_list(
            "pk", "township__name", "person__name", "person__citizen_id", "abandoned_reason"
        )
    ):
        failure = reasons.get(pk) or str(_("no valid bank or card account at payout"))
        outcome = abandoned or str(_("not paid"))
        rows.append([township, name, mask(citizen_id, CITIZEN_ID), failure, outcome])
    return rows


def _number(value):
    if isinstance(value, str) and value.replace(".", "", 1).isdigit() and "." in value:
        return Decimal(value)
    return value
