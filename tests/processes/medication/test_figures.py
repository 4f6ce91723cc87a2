"""A cycle's figures: the cycle page's township table and the report below it come from the same
counts at every stage (after finance approval too), with the rejections by reason."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from processes.medication.figures import COUNTS
from processes.medication.models import CycleState, EntryState
from processes.medication.services.report import cycle_report, cycle_report_xlsx

from .conftest import TOWNSHIP_A, TOWNSHIP_B, complete, run_jobs
from .test_screens import client_for

pytestmark = pytest.mark.django_db
COMPARED = ("listed", "reviewed", "approved", "rejected", "paid", "failed", "paid_amount")


def page_figures(client, cycle) -> tuple[dict, dict, str]:
    page = client.get(f"/medication/{cycle.pk}/")
    assert page.status_code == 200
    return page.context, page.context["report"], page.content.decode()


def assert_table_agrees_with_report(context, report) -> None:
    """Every township row of the page's table equals the report's row, and the totals too."""
    table = {row["township"].code: row for row in context["overview"]}
    assert table and set(table) == {row["code"] for row in report["townships"]}
    for row in report["townships"]:
        assert {k: table[row["code"]][k] for k in COMPARED} == {k: row[k] for k in COMPARED}
    for key in COUNTS:
        assert sum(row[key] for row in context["overview"]) == context["overview_total"][key]
        assert context["overview_total"][key] == report["total"][key]
    assert context["overview_total"]["paid_amount"] == report["total"]["paid_amount"]


def workbook_of(response) -> dict[str, list[list]]:
    assert response.status_code == 200 and response.content[:2] == b"PK"
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    return {
        name: [list(r) for r in workbook[name].iter_rows(values_only=True)]
        for name in workbook.sheetnames
    }


def test_after_finance_approval_the_table_and_the_report_count_the_same_approved(year):
    year.county_approved()
    client = client_for(year.clerk)
    context, report, _html = page_figures(client, year.cycle)
    assert_table_agrees_with_report(context, report)
    approved = {row["township"].code: row["approved"] for row in context["overview"]}
    assert sum(approved.values()) == year.cycle.county_approved_persons == 8
    assert approved[TOWNSHIP_A] > 0 and approved[TOWNSHIP_B] > 0

    total = str(year.cycle.county_approved_total)  # finance approves: on to the bank batch
    complete(
        year.instance, "finance_approval", year.finance, decision="approve", confirmed_total=total
    )
    run_jobs()
    year.refresh()
    assert year.cycle.state == CycleState.PAYING
    assert not year.cycle.entries.filter(state=EntryState.TOWNSHIP_APPROVED).exists()
    context, report, html = page_figures(client, year.cycle)
    assert_table_agrees_with_report(context, report)
    assert {row["township"].code: row["approved"] for row in context["overview"]} == approved
    assert context["overview_total"]["approved"] == report["total"]["approved"] == 8
    assert report["total"]["approved_amount"] == "8000.00" and report["total"]["paid"] == 0
    assert 'id="overview-approved">8<' in html and 'id="report-approved">8<' in html
    rejected = report["total"]["rejected"]
    assert rejected == 8 and report["rejection_reasons"] == [["不符合", rejected]]
    by_township = {row["code"]: row["rejection_reasons"] for row in report["townships"]}
    assert sum(n for reasons in by_township.values() for _r, n in reasons) == rejected


def test_the_rejection_reasons_are_counted_per_township_and_in_total(year, township_a):
    from processes.medication.services.review import entries_bulk_approve, entry_decide

    year.compared()
    entries_bulk_approve(user=township_a, cycle_id=year.cycle.pk, township_code=TOWNSHIP_A)
    flagged = year.cycle.entries.filter(township__code=TOWNSHIP_A, state=EntryState.COMPARED)
    reasons = ["已死亡", "户籍 迁出", "已死亡 "]
    for entry, reason in zip(flagged.order_by("pk"), reasons, strict=False):
        entry_decide(user=township_a, entry_id=entry.pk, decision="reject", reason=reason)
    report = cycle_report(year.cycle)
    row = next(r for r in report["townships"] if r["code"] == TOWNSHIP_A)
    assert row["rejection_reasons"] == [["已死亡", 2], ["户籍 迁出", 1]]
    assert (
        row["undecided"] == flagged.count() and row["reviewed"] == row["listed"] - row["undecided"]
    )
    assert report["rejection_reasons"] == [["已死亡", 2], ["户籍 迁出", 1]]
    sheets = load_workbook(io.BytesIO(cycle_report_xlsx(year.cycle)), read_only=True)
    reasons_sheet = [list(r) for r in sheets["Rejection reasons"].iter_rows(values_only=True)]
    assert ["城关镇", "已死亡", 2] in reasons_sheet and ["Total", "已死亡", 2] in reasons_sheet
