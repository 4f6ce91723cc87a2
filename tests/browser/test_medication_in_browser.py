"""The medication subsidy in a real Chromium: a township reviews its list (flagged rows first,
a reason for each, the unflagged in bulk) and the finance bureau approves the totals."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

from processes.medication.models import CycleState, EntryState, TownshipListState
from tests.conftest import TOWNSHIP_A
from tests.processes.medication.conftest import KEY, Year, open_tasks, small_county
from workflows.services.definitions import definition_deploy

from .conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PACK = django_settings.BASE_DIR / "processes"


@pytest.fixture
def year(org_units, county_clerk, township_a, township_b, finance_clerk, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    definition_deploy(content=(PACK / "bpmn" / f"{KEY}.bpmn").read_bytes(), user=None)
    return Year(small_county(), county_clerk, township_a, township_b, finance_clerk)


def test_a_township_reviews_its_list_flagged_rows_first_and_submits_it(page, year, township_a):
    year.compared()
    task = open_tasks(year.instance, "township_review").get(scope=TOWNSHIP_A)
    rows_in_a = year.cycle.entries.filter(township__code=TOWNSHIP_A)
    flagged = list(rows_in_a.filter(flagged=True).select_related("person"))
    log_in(page, township_a)
    page.click("#tab-group")
    assert page.locator(f"tr[data-task='{task.pk}']").count() == 1  # in the township's inbox
    page.goto(f"{page.base}/tasks/{task.pk}/")
    assert page.locator("h1").inner_text().startswith("乡镇审核名单")
    first_rows = page.locator("#review-rows tbody tr")
    for index in range(len(flagged)):
        assert "flagged" in first_rows.nth(index).get_attribute("class")
    assert page.locator("#count-flagged").inner_text() == str(len(flagged))
    screenshot(page, "medication-township-review")

    # Approving a flagged row needs a reason: the server says so, nothing changes.
    keep, *reject = flagged
    row = page.locator(f"#row-{keep.pk}")
    with page.expect_navigation():
        row.get_by_role("button", name="同意").click()
    assert "请说明仍予通过的理由" in page.locator(".messages").inner_text()
    row = page.locator(f"#row-{keep.pk}")
    row.get_by_placeholder("原因").fill("已补办银行卡，核实无误")
    with page.expect_navigation():
        row.get_by_role("button", name="同意").click()
    assert "乡镇审核通过" in page.locator(f"#row-{keep.pk} td.decision").inner_text()
    for entry in reject:
        row = page.locator(f"#row-{entry.pk}")
        row.get_by_placeholder("原因").fill(f"比对异常：{entry.flags.first().get_kind_display()}")
        with page.expect_navigation():
            row.get_by_role("button", name="不通过").click()
        assert "乡镇审核不通过" in page.locator(f"#row-{entry.pk} td.decision").inner_text()

    # Submitting too early is refused; the unflagged rows are approved in one click.
    with page.expect_navigation():
        page.click("#submit-list")
    assert "名单中还有" in page.locator(".messages").inner_text()
    unflagged = rows_in_a.filter(flagged=False).count()
    assert page.locator("#bulk-approve").inner_text() == f"一键通过全部{unflagged}名无异常人员"
    with page.expect_navigation():
        page.click("#bulk-approve")
    assert f"已一键通过{unflagged}名无异常人员" in page.locator(".messages").inner_text()
    assert page.locator("#count-undecided").inner_text() == "0"
    screenshot(page, "medication-township-review-decided")
    page.locator("#submit-form textarea").fill("本镇名单已逐户核实。")
    with page.expect_navigation():
        page.click("#submit-list")
    page.wait_for_url(page.base + "/")
    assert "提交后不能再更改" in page.questions[-1]
    assert "已办结" in page.locator(".messages").inner_text()
    township_list = year.cycle.townships.get(township__code=TOWNSHIP_A)
    assert township_list.state == TownshipListState.SUBMITTED
    assert not rows_in_a.filter(state=EntryState.COMPARED).exists()
    assert rows_in_a.get(pk=keep.pk).decision_reason == "已补办银行卡，核实无误"


def test_the_finance_bureau_approves_the_totals_by_township_and_a_wrong_total_is_refused(
    page, year, finance_clerk
):
    year.county_approved()
    task = open_tasks(year.instance, "finance_approval").get()
    log_in(page, finance_clerk)
    page.goto(f"{page.base}/tasks/{task.pk}/")
    totals = page.locator("#finance-totals")
    assert "城关镇" in totals.inner_text() and "白沙镇" in totals.inner_text()
    assert "×" in totals.inner_text() and "=" in totals.inner_text()
    assert page.locator("#finance-persons").inner_text() == "8"
    assert page.locator("#finance-total").inner_text() == "8000.00"
    assert "王秀英" not in page.content()  # finance sees totals, not persons
    screenshot(page, "medication-finance-approval")

    page.fill("#confirmed-total", "7000")
    with page.expect_navigation():
        page.click("#approve-funds")
    message = page.locator(".messages").inner_text()
    assert "核准金额（7000元）与名单不符：名单为8人，8000.00元" in message
    year.refresh()
    assert year.cycle.state == CycleState.COUNTY_APPROVED

    page.fill("#confirmed-total", "8000.00")
    with page.expect_navigation():
        page.click("#approve-funds")
    page.wait_for_url(page.base + "/")
    year.refresh()
    assert year.cycle.state in (CycleState.FINANCE_APPROVED, CycleState.PAYING)
    assert year.cycle.finance_approved_by == finance_clerk
