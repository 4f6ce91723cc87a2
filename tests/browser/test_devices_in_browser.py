"""Assistive-device fitting in a real Chromium: the assessor records the assessment and the
fitting plan, the service institution records the fitting; each sees only their own cases."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from processes.devices.demo import agreements_load, catalogue_load
from processes.devices.models import ApplicationState, DeviceApplication
from tests.processes.devices.conftest import (  # noqa: F401 (fixtures)
    ASSESSMENT,
    ASSESSMENT_B,
    PROVIDER_EXPIRED,
    PROVIDER_X,
    PROVIDER_Y,
    adult,
    child,
    complete,
    open_task,
    places,
    register,
    staff,
    through_checks,
)
from workflows.models import HumanTaskState
from workflows.services.definitions import definition_deploy

from .conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PACK = django_settings.BASE_DIR / "processes"


@pytest.fixture
def device_cases(settings, places, staff, adult, child, tmp_path):  # noqa: F811
    settings.WORKFLOWS = {
        **settings.WORKFLOWS,
        "FORM_DIRS": [*settings.WORKFLOWS["FORM_DIRS"], PACK / "forms"],
        "DMN_DIRS": [PACK / "dmn"],
    }
    settings.MEDIA_ROOT = tmp_path / "media"
    for name in ("assistive_device_fitting", "assistive_device_settlement"):
        definition_deploy(content=(PACK / "bpmn" / f"{name}.bpmn").read_bytes(), user=None)
    catalogue_load()
    agreements_load([places[PROVIDER_X], places[PROVIDER_Y], places[PROVIDER_EXPIRED]])
    mine = register(staff["village"], adult)
    theirs = register(staff["village"], child, requested_devices=["FZ-YD-02"])
    for application, institution in ((mine, ASSESSMENT), (theirs, ASSESSMENT_B)):
        through_checks(application, staff)
        complete(
            application, "assign_assessment", staff["county"], assessment_institution=institution
        )
    return mine, theirs


def test_the_assessor_and_the_provider_each_work_only_their_own_cases(
    page,
    device_cases,
    staff,  # noqa: F811
):
    mine, theirs = device_cases
    assessor = staff["assessor"]
    assessor.last_name = "县康复评估中心 孙伟"
    assessor.save()
    log_in(page, assessor)

    # The inbox holds this institution's assessment only.
    page.click("#tab-group")
    assert page.locator("tr.task-row").count() == 1
    assert mine.number in page.content() and theirs.number not in page.content()
    task = open_task(mine, "record_assessment")
    page.goto(f"{page.base}/tasks/{task.pk}/")
    page.wait_for_selector("#fz-form[data-ready=true]")
    assert mine.number in page.locator("#application").inner_text()

    # The needs assessment and a plan line chosen from the catalogue.
    page.get_by_label("需求评估（功能状况、使用环境、适配建议）").fill(
        "双下肢肌力三级，室内短距离可扶行，室外需轮椅。"
    )
    page.locator(".fjs-form-field-select").first.click()
    page.locator(".fjs-dropdownlist-item", has_text="FZ-YD-01").click()
    page.get_by_label("数量").fill("1")
    page.get_by_label("单价（元）").fill("1580")
    page.get_by_label("型号规格").fill("钢制折叠轮椅 座宽42cm")
    screenshot(page, "device-assessment")
    with page.expect_navigation():
        page.click("#complete")
    page.wait_for_url(page.base + "/")
    mine.refresh_from_db()
    assert mine.state == ApplicationState.APPROVAL
    item = mine.plan_items.get()
    assert (item.device.code, item.quantity, str(item.unit_price)) == ("FZ-YD-01", 1, "1580.00")

    # The other institution's case is not there for this assessor.
    assert page.goto(f"{page.base}/devices/{theirs.pk}/").status == 404
    page.goto(f"{page.base}/devices/")
    assert page.locator("#applications tr[data-application]").count() == 1

    # The county approves (the subsidy is decided) and orders from institution X.
    complete(mine, "approve_plan", staff["county"], decision="approve", opinion="同意")
    complete(mine, "choose_provider", staff["county"], service_institution=PROVIDER_X)

    page.context.clear_cookies()
    provider = staff["provider"]
    log_in(page, provider)
    page.click("#tab-group")
    assert page.locator("tr.task-row").count() == 1
    fitting = open_task(mine, "record_fitting")
    page.goto(f"{page.base}/tasks/{fitting.pk}/")
    page.wait_for_selector("#fz-form[data-ready=true]")
    aside = page.locator("#application").inner_text()
    assert "1,200.00" in aside and "380.00" in aside  # subsidy by the ceiling, paid by the person
    assert "CG" in page.locator("#purchase-order").inner_text()
    page.get_by_label("适配情况（调试、尺寸、安装）").fill("调整脚踏高度与靠背角度。")
    page.get_by_label("适应性训练").fill("转移与坡道推行训练。")
    day = timezone.localdate()
    delivered = page.get_by_label("交付日期")
    delivered.fill(f"{day.month}/{day.day}/{day.year}")  # the en-US picker
    # Leave the field by the keyboard: its open calendar may lie over the next field.
    delivered.press("Tab")
    page.get_by_label("产品序列号").click()
    screenshot(page, "device-fitting")
    with page.expect_navigation():
        page.click("#complete")
    page.wait_for_url(page.base + "/")
    assert open_task(mine, "confirm_acceptance").state == HumanTaskState.OPEN
    mine.refresh_from_db()
    assert mine.state == ApplicationState.ACCEPTANCE and mine.fittings.count() == 1

    page.goto(f"{page.base}/devices/{mine.pk}/")
    assert "调整脚踏高度" in page.locator("#fittings").inner_text()
    screenshot(page, "device-application")
    assert page.goto(f"{page.base}/devices/{theirs.pk}/").status == 404
    assert page.goto(f"{page.base}/cases/{theirs.instance_id}/").status == 404

    # Institution Y's provider sees none of it.
    page.context.clear_cookies()
    log_in(page, staff["provider_y"])
    page.click("#tab-group")
    assert page.locator("tr.task-row").count() == 0
    assert page.goto(f"{page.base}/devices/{mine.pk}/").status == 404
    assert DeviceApplication.objects.count() == 2
