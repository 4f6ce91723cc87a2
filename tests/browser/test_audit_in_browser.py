"""An auditor finds a petition case, steps through its history on the diagram, and sees the
first receiver and each deadline at every step; a step's link opens that same step."""

from __future__ import annotations

import json

import pytest
from django.conf import settings as django_settings

from processes.petitions.services import petition_register
from workflows.audit_origin import audit_origin
from workflows.models import HumanTask
from workflows.services.definitions import definition_deploy
from workflows.services.tasks import task_complete

from .conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PACK = django_settings.BASE_DIR / "processes"


@pytest.fixture
def petition(owner, township_a):
    diagram = PACK / "bpmn" / "petition_first_receiver.bpmn"
    definition_deploy(content=diagram.read_bytes(), user=owner)
    township_a.last_name = "城关镇残联 张丽"
    township_a.save()
    # Entered at a township office's counter, as the portal's views would record it.
    with audit_origin("portal", "10.0.0.8"):
        petition = petition_register(
            user=township_a,
            channel="visit",
            petitioner_name="赵大勇",
            petitioner_id_number="11010519491231002X",
            subject="辅具补贴未发放",
            content="去年申请的轮椅补贴至今未到账。",
        )
        task = HumanTask.objects.get(instance=petition.instance, element_id="decide_acceptance")
        task_complete(task_id=task.pk, user=township_a, data={"decision": "accepted"})
    petition.refresh_from_db()
    return petition


def panel(page) -> dict:
    return {
        "what": page.inner_text("#step-what"),
        "who": page.inner_text("#step-who"),
        "data": page.inner_text("#step-data"),
        "deadlines": page.inner_text("#step-deadlines"),
        "states": json.loads(page.get_attribute("#replay", "data-states") or "{}"),
        "step": page.get_attribute("#replay", "data-step"),
    }


def test_an_auditor_steps_through_a_petition_case(page, petition, make_user):
    auditor = make_user("shenji", ("auditor", ""))
    auditor.last_name = "县审计局 郑华"
    auditor.save()
    log_in(page, auditor)

    page.goto(page.base + "/audit/?person=赵大勇")
    with page.expect_navigation():
        page.click(f'#audit-results a[href="/audit/cases/{petition.instance_id}/"]')
    page.wait_for_selector("#replay[data-ready=true]")
    assert "✔" in page.inner_text("#chain-status")
    assert "✔" in page.inner_text("#replay-status")
    total = int(page.get_attribute("#step-slider", "max"))
    assert total >= 4

    first = panel(page)
    assert first["step"] == "1" and first["states"]["decide_acceptance"] == "active"
    assert "受理期限" in first["deadlines"]
    screenshot(page, "audit-replay-first-step")

    seen_reply_due = False
    for number in range(1, total + 1):
        state = panel(page)
        assert state["step"] == str(number)
        # The first receiver and the deadlines are there at every step.
        assert "首接人" in page.inner_html("#step-data") and "township_a" in page.inner_html(
            "#step-data"
        )
        assert "受理期限" in state["deadlines"]
        seen_reply_due |= "答复期限" in state["deadlines"]
        if number < total:
            page.keyboard.press("ArrowRight")
    assert seen_reply_due
    last = panel(page)
    assert last["states"]["decide_acceptance"] == "completed"
    assert last["states"]["follow_up"] == "active"
    assert f"step={total}" in page.url
    screenshot(page, "audit-replay-last-step")

    page.keyboard.press("Home")
    assert panel(page)["step"] == "1"
    completion = next(
        i
        for i, text in enumerate(page.locator("#replay-steps li").all_inner_texts(), start=1)
        if "办结任务" in text or "task completed" in text
    )
    page.goto(f"{page.base}/audit/cases/{petition.instance_id}/?step={completion}")
    page.wait_for_selector("#replay[data-ready=true]")
    shared = panel(page)
    assert shared["step"] == str(completion)
    assert "城关镇残联 张丽" in shared["who"]
    assert "accepted" in page.inner_text("#step-changes")
    assert "10.0.0.8" in page.inner_text("#step-origin")
    screenshot(page, "audit-replay-shared-step")

    response = page.request.get(f"{page.base}/audit/cases/{petition.instance_id}/history.pdf")
    assert response.ok and response.body().startswith(b"%PDF")
