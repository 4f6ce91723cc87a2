"""The demo's finished year shows its figures: its cycle page's township table and report
agree, and its report downloads as .xlsx with every township and the totals."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from processes.medication.models import CycleState, EntryState, MedicationCycle
from registry.demo import demo_load

from .test_figures import assert_table_agrees_with_report, page_figures, workbook_of
from .test_screens import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_year(clock):
    demo_load(persons=800)
    call_command("load_demo_medication")
    return MedicationCycle.objects.get(year=2024)


def test_the_demo_years_page_shows_its_figures_per_township_and_in_total(demo_year):
    county = get_user_model().objects.get(username="county")
    context, report, html = page_figures(client_for(county), demo_year)
    assert demo_year.state == CycleState.CLOSED and report == demo_year.report  # as kept
    assert len(context["overview"]) == demo_year.townships.count() == 15
    assert_table_agrees_with_report(context, report)
    entries = demo_year.entries
    total = report["total"]
    assert total["paid"] == entries.filter(state=EntryState.PAID).count() > 10
    assert total["failed"] == 1 and total["rejected"] == entries.filter(source="new").count() > 0
    assert total["reviewed"] == total["approved"] + total["rejected"] == total["listed"]
    assert Decimal(total["paid_amount"]) == Decimal("1000.00") * total["paid"]
    assert sum(n for _reason, n in report["rejection_reasons"]) == total["rejected"]
    assert {reason for reason, _n in report["rejection_reasons"]} == {
        "无低保或特困身份",
        "残疾人证不含精神残疾",
    }
    assert f'id="report-paid">{total["paid"]}<' in html
    assert f'id="overview-paid">{total["paid"]}<' in html
    assert 'id="rejection-reasons"' in html and "无低保或特困身份：" in html
    rows = re.search(r'id="township-overview">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    assert rows.count("<tr>") == 15


def test_the_demo_years_report_downloads_as_xlsx_with_townships_and_totals(demo_year):
    county = get_user_model().objects.get(username="county")
    sheets = workbook_of(client_for(county).get(f"/medication/{demo_year.pk}/report.xlsx"))
    assert list(sheets) == ["Summary", "Rejection reasons", "Rejected", "Payment failed"]
    header, *townships, total = sheets["Summary"]
    report = demo_year.report
    assert len(townships) == len(report["townships"]) == 15
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in townships}
    for row in report["townships"]:
        cells = by_name[row["name"]]
        assert (cells["Approved"], cells["Rejected"], cells["Paid"]) == (
            row["approved"],
            row["rejected"],
            row["paid"],
        )
    total = dict(zip(header, total, strict=True))
    assert total["Township"] == "Total"
    for key, column in (("reviewed", "Reviewed"), ("approved", "Approved"), ("paid", "Paid")):
        assert (
            total[column] == report["total"][key] == sum(r[header.index(column)] for r in townships)
        )
    assert total["Payment failed"] == 1
    assert total["Money paid (yuan)"] == float(report["total"]["paid_amount"])
    reasons = sheets["Rejection reasons"]
    assert reasons[0] == ["Township", "Reason", "Persons"]
    assert sum(r[2] for r in reasons[1:] if r[0] == "Total") == report["total"]["rejected"]
    assert sum(r[2] for r in reasons[1:] if r[0] != "Total") == report["total"]["rejected"]
    rejected = sheets["Rejected"][1:]
    assert len(rejected) == report["total"]["rejected"]
    assert all(re.fullmatch(r"\d{6}\*{8}[\dX]{4}", row[2]) for row in rejected)  # masked
    assert sheets["Payment failed"][1][4] == "未办理银行卡，本人放弃本年度补助"


def test_an_imported_year_kept_without_figures_is_shown_and_repaired(demo_year):
    """A year loaded by an earlier demo loader kept only its paid total: the page and the .xlsx
    build the figures from the entries, and loading the demo again keeps the full report."""
    MedicationCycle.objects.filter(pk=demo_year.pk).update(report={"imported": True, "paid": 9})
    demo_year.townships.all().delete()
    demo_year.refresh_from_db()
    county = get_user_model().objects.get(username="county")
    context, report, _html = page_figures(client_for(county), demo_year)
    with_entries = set(demo_year.entries.values_list("township__code", flat=True))
    assert {row["township"].code for row in context["overview"]} == with_entries
    assert all(row["list"] is None for row in context["overview"])
    assert_table_agrees_with_report(context, report)
    sheets = workbook_of(client_for(county).get(f"/medication/{demo_year.pk}/report.xlsx"))
    assert sheets["Summary"][-1][0] == "Total"
    assert len(sheets["Summary"]) == 1 + len(with_entries) + 1
    call_command("load_demo_medication")
    demo_year.refresh_from_db()
    assert demo_year.townships.count() == 15 and demo_year.report["townships"]
    assert len(demo_year.report["townships"]) == 15
    assert demo_year.report["total"] == report["total"]


def test_finance_downloads_the_report_without_persons(demo_year):
    finance = get_user_model().objects.get(username="finance")
    sheets = workbook_of(client_for(finance).get(f"/medication/{demo_year.pk}/report.xlsx"))
    assert list(sheets) == ["Summary", "Rejection reasons"]
    page = client_for(finance).get(f"/medication/{demo_year.pk}/").content.decode()
    assert 'id="report-table"' in page and "township-overview" not in page
