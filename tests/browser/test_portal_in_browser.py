"""The portal as staff use it, in a real Chromium: inbox, task form, case page, operations."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.conftest import BPMN
from workflows.models import HumanTask, HumanTaskState, InstanceState
from workflows.services.definitions import definition_deploy
from workflows.services.instances import instance_start
from workflows.services.tasks import task_complete

from .conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_township_officer_claims_corrects_an_invalid_value_and_completes_a_task(
    page, start_case, township_a, township_b
):
    township_a.last_name = "城关镇残联 张丽"
    township_a.save()
    with time_machine.travel(timezone.now() - timedelta(days=8)):
        overdue = start_case(township_a, index=1, name="王秀英")  # due three days ago
    with time_machine.travel(timezone.now() - timedelta(days=4)):
        start_case(township_a, index=4, name="张桂兰")  # due tomorrow
    mine = start_case(township_a, index=2, name="李建国")
    start_case(township_a, index=5, name="刘志强")
    start_case(township_b, index=3, name="白沙镇申请人")  # another township's case
    log_in(page, township_a)

    # The inbox, in Chinese, shows only this township's four tasks; the overdue one is marked.
    page.click("#tab-group")
    rows = page.locator("tr.task-row")
    assert rows.count() == 4
    assert "白沙镇申请人" not in page.content()
    assert page.locator("#tab-group .count").inner_text() == "4"
    overdue_task = overdue.human_tasks.get()
    assert "overdue" in page.locator(f"tr[data-task='{overdue_task.pk}']").get_attribute("class")
    assert page.locator("h1").inner_text() == "待办"
    screenshot(page, "inbox")

    # Claim one, open it.
    task = mine.human_tasks.get()
    with page.expect_navigation():
        page.locator(f"tr[data-task='{task.pk}'] button", has_text="认领").click()
    page.wait_for_url("**/?tab=group")
    assert page.locator("#tab-mine .count").inner_text() == "1"
    page.goto(f"{page.base}/tasks/{task.pk}/")
    page.wait_for_selector("#fz-form[data-ready=true]")
    screenshot(page, "task")

    # Fill the form with a wrong phone number: the error shows beside that field and
    # everything else typed is still there.
    page.get_by_label("已核实户籍与居住情况").check()
    page.get_by_label("联系电话").fill("12345")
    page.get_by_label("家庭人口（人）").fill("3")
    page.get_by_label("同意，报县残联复核").check()
    page.get_by_label("初审意见").fill("原证已到期，户籍属实。")
    with page.expect_navigation():
        page.click("#complete")
    page.wait_for_selector("#fz-form[data-ready=true]")
    phone_field = page.locator(".fjs-form-field", has=page.get_by_label("联系电话"))
    assert "格式不正确" in phone_field.inner_text()
    assert page.get_by_label("联系电话").input_value() == "12345"
    assert page.get_by_label("初审意见").input_value() == "原证已到期，户籍属实。"
    assert page.get_by_label("家庭人口（人）").input_value() == "3"
    assert page.get_by_label("已核实户籍与居住情况").is_checked()
    assert page.get_by_label("同意，报县残联复核").is_checked()
    screenshot(page, "task-with-error")

    # Correct it and complete: back in the inbox, the task is gone.
    page.get_by_label("联系电话").fill("13805710001")
    with page.expect_navigation():
        page.click("#complete")
    try:
        page.wait_for_url(page.base + "/")
    except Exception:
        print("URL", page.url)
        print("MSG", page.locator("body").inner_text()[:2000])
        raise
    assert "已办结" in page.locator(".messages").inner_text()
    task.refresh_from_db()
    assert task.state == HumanTaskState.COMPLETED
    assert task.completed_data["contact_phone"] == "13805710001"
    assert page.locator(f"tr[data-task='{task.pk}']").count() == 0
    page.click("#tab-group")
    assert page.locator(f"tr[data-task='{task.pk}']").count() == 0
    assert page.locator("tr.task-row").count() == 3


def test_a_process_owner_sees_the_current_step_on_the_diagram_and_retries_an_incident(
    page, start_case, township_a, owner, county_clerk
):
    case = start_case(township_a, index=1)
    first = case.human_tasks.get()
    task_complete(
        task_id=first.pk,
        user=township_a,
        data={
            "household_verified": True,
            "contact_phone": "13805710001",
            "household_size": 2,
            "township_decision": "approve",
            "township_opinion": "同意。",
        },
    )
    definition_deploy(content=(BPMN / "failing_condition.bpmn").read_bytes(), user=owner)
    broken = instance_start(process_key="failing_condition", user=county_clerk)
    with pytest.raises(Exception, match="步骤 divide 出错"):
        task_complete(
            task_id=broken.human_tasks.get().pk,
            user=county_clerk,
            data={"total": 100, "persons": 0},
        )
    log_in(page, owner)

    page.goto(f"{page.base}/cases/{case.pk}/")
    page.wait_for_selector("#case-diagram[data-ready=true]")
    current = page.locator(".djs-element.fz-current")
    assert current.count() == 1
    assert current.get_attribute("data-element-id") == "county_review"
    assert page.locator(".djs-element.fz-done[data-element-id='township_check']").count() == 1
    assert page.locator(".djs-connection.fz-taken").count() >= 3
    assert "乡镇初审" in page.locator(".timeline").inner_text()
    screenshot(page, "case")

    with page.expect_navigation():
        page.click("nav >> text=运行监控")
    incident_row = page.locator("#incidents tr", has_text="ZeroDivisionError")
    assert incident_row.count() == 1
    with page.expect_navigation():
        incident_row.get_by_role("button", name="重试").click()
    page.wait_for_selector(".messages .success")
    assert "异常已清除" in page.locator(".messages").inner_text()
    assert page.locator("#incidents tr", has_text="ZeroDivisionError").count() == 0
    broken.refresh_from_db()
    assert broken.state == InstanceState.RUNNING
    screenshot(page, "operations")


def test_the_same_pages_in_english_after_switching_language(page, start_case, township_a):
    case = start_case(township_a, index=1)
    task = case.human_tasks.get()
    log_in(page, township_a)
    assert page.locator("h1").inner_text() == "待办"
    page.select_option("#language-switch", "en")
    page.wait_for_selector("h1:has-text('Inbox')")
    assert page.locator("#tab-mine").inner_text().startswith("My tasks")
    page.click("#tab-group")
    with page.expect_navigation():
        page.locator(f"tr[data-task='{task.pk}'] button", has_text="Claim").click()
    page.goto(f"{page.base}/tasks/{task.pk}/")
    page.wait_for_selector("#fz-form[data-ready=true]")
    assert page.locator("#complete").inner_text() == "Complete task"
    with page.expect_navigation():
        page.click("#complete")  # empty required fields: the server answers in English
    page.wait_for_selector("#fz-form[data-ready=true]")
    assert "This field is required." in page.locator("#fz-form").inner_text()
    page.goto(f"{page.base}/cases/{case.pk}/")
    page.wait_for_selector("#case-diagram[data-ready=true]")
    assert page.locator("h2", has_text="Timeline").count() == 1
    assert page.locator(".djs-element.fz-current").count() == 1
    screenshot(page, "case-en")
    still_open = HumanTask.objects.get(pk=task.pk)
    assert still_open.state == HumanTaskState.OPEN  # an invalid submission completes nothing
