"""A petition worked in the browser from registration to closure, by its first receiver."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

from processes.petitions.models import Petition, PetitionState
from tests.conftest import TOWNSHIP_A
from workflows.services.definitions import definition_deploy

from .conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PACK = django_settings.BASE_DIR / "processes"


@pytest.fixture
def petition_pack(owner):
    diagram = PACK / "bpmn" / "petition_first_receiver.bpmn"
    return definition_deploy(content=diagram.read_bytes(), user=owner).definition


def open_my_task(page, name: str) -> None:
    page.goto(page.base + "/")
    page.locator("tr.task-row", has_text=name).locator("a").first.click()
    page.wait_for_selector("#fz-form[data-ready=true]")


def test_a_first_receiver_registers_answers_on_the_spot_and_closes_a_petition(
    page, petition_pack, township_a, make_user
):
    township_a.last_name = "城关镇残联 张丽"
    township_a.save()
    log_in(page, township_a)

    page.goto(page.base + "/start/petition_first_receiver/")
    page.wait_for_selector("#fz-form[data-ready=true]")
    page.get_by_label("来访", exact=True).check()
    page.get_by_label("信访人姓名").fill("赵大勇")
    page.get_by_label("信访事项").fill("辅具补贴未发放")
    page.get_by_label("主要诉求及内容").fill("去年申请的轮椅补贴至今未到账。")
    page.get_by_label("一次性告知内容（需补充的材料等）").fill("请补充购买发票复印件。")
    with page.expect_navigation():
        page.click("#start")
    petition = Petition.objects.get()
    assert petition.first_receiver == township_a and petition.receiving_unit == TOWNSHIP_A
    assert petition.number in page.content()  # the case page
    screenshot(page, "petition-case")

    open_my_task(page, "受理决定")
    page.get_by_role("radio", name="当场答复").check()
    page.get_by_label("当场答复内容（当场答复时填写）").fill("已当场解释补贴发放时间。")
    with page.expect_navigation():
        page.click("#complete")
    petition.refresh_from_db()
    assert petition.state == PetitionState.ANSWERED_ON_SPOT

    open_my_task(page, "办结并记录满意度")
    page.get_by_role("radio", name="满意", exact=True).check()
    with page.expect_navigation():
        page.click("#complete")
    petition.refresh_from_db()
    assert petition.state == PetitionState.CLOSED and petition.satisfaction == "satisfied"

    page.goto(page.base + "/petitions/")
    row = page.locator("#petitions tr", has_text=petition.number)
    assert "赵**" in row.inner_text() and "赵大勇" not in row.inner_text()  # masked in lists
    screenshot(page, "petitions")

    colleague = make_user("colleague", ("township_staff", TOWNSHIP_A))
    page.context.clear_cookies()
    log_in(page, colleague)
    response = page.goto(f"{page.base}/cases/{petition.instance_id}/")
    assert response.status == 404
    page.goto(page.base + "/petitions/")
    assert petition.number not in page.locator("#petitions").inner_text()
