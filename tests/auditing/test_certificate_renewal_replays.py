"""Certificate renewal (残疾人证换领) driven to each of its ends through the services, each step in
a fresh process; every case replays at every event. When a replay does disagree, the auditor
reads in Chinese which step differs and how, on the replay page and in the verification, with
the diagram's step names and the forms' labels, never a task UUID."""

import json
import re

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.conftest import TOWNSHIP_A
from tests.replay_check import assert_every_case_replays
from tests.workflows.services.test_audit import raw_update
from workflows.models import AuditKind, HumanTask, InstanceState, ProcessInstance
from workflows.selectors.case_replay import case_history, case_verify
from workflows.services.definitions import definition_deploy
from workflows.services.instances import instance_start
from workflows.services.replay import instance_replay
from workflows.services.tasks import task_claim, task_complete, task_unclaim

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("a_new_process_each_step")]
PACK = django_settings.BASE_DIR / "processes"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TOWNSHIP_OK = {
    "household_verified": True,
    "contact_phone": "13805710000",
    "household_size": 3,
    "township_decision": "approve",
    "township_opinion": "原证有效期满，户籍与居住情况属实，同意换领。",
}


@pytest.fixture(autouse=True)
def renewal_pack(petition_pack, owner):
    content = (PACK / "bpmn" / "certificate_renewal.bpmn").read_bytes()
    definition_deploy(content=content, user=owner)


@pytest.fixture
def auditor(make_user):
    return make_user("shenji", ("auditor", ""))


@pytest.fixture
def staff(make_user, township_a):
    return {"township": township_a, "county": make_user("county_zhou", ("county_staff", ""))}


def start(staff, number: int) -> ProcessInstance:
    return instance_start(
        process_key="certificate_renewal",
        user=staff["township"],
        business_key=f"HZ-101-{number:03d}",
        org_unit=TOWNSHIP_A,
        variables={
            "applicant_name": "王秀英",
            "applicant_id": "330102195003150029",  # a valid ID: the start checks it
            "certificate_no": "33010219500315002942",
            "renewal_reason": "expired",
            "contact_phone": "13805710000",
        },
    )


def work(instance, element: str, user, **data) -> None:
    task = HumanTask.objects.get(instance=instance, element_id=element, state="open")
    task_claim(task_id=task.pk, user=user)
    task_complete(task_id=task.pk, user=user, data=data)


def renewed(staff) -> ProcessInstance:
    """Renewed, after the township's desk handed the check back once (a colleague away)."""
    instance = start(staff, 1)
    check = HumanTask.objects.get(instance=instance, element_id="township_check")
    task_claim(task_id=check.pk, user=staff["township"])
    task_unclaim(task_id=check.pk, user=staff["township"])
    work(instance, "township_check", staff["township"], **TOWNSHIP_OK)
    work(
        instance,
        "county_review",
        staff["county"],
        county_decision="approve",
        new_valid_until="2035-03-01",
        county_opinion="同意换发新证。",
    )
    return instance


def refused_by_the_county(staff) -> ProcessInstance:
    instance = start(staff, 2)
    work(instance, "township_check", staff["township"], **TOWNSHIP_OK)
    work(
        instance,
        "county_review",
        staff["county"],
        county_decision="reject",
        county_opinion="原证仍在有效期内，不予换领。",
    )
    return instance


def refused_by_the_township(staff) -> ProcessInstance:
    instance = start(staff, 3)
    work(
        instance,
        "township_check",
        staff["township"],
        **{**TOWNSHIP_OK, "township_decision": "reject", "township_opinion": "户籍已迁出。"},
    )
    return instance


def test_every_end_of_a_certificate_renewal_replays_at_every_event(staff):
    cases = [renewed(staff), refused_by_the_county(staff), refused_by_the_township(staff)]
    for instance in cases:
        instance.refresh_from_db()
        assert instance.state == InstanceState.COMPLETED
    assert assert_every_case_replays() >= 8  # three starts, five completions (the petition's too)


def test_a_disagreeing_step_is_named_in_chinese_on_the_page_and_in_the_verification(staff, auditor):
    instance = renewed(staff)
    checked = instance.audit_events.get(kind=AuditKind.TASK_COMPLETED, element_id="township_check")
    # The township's decision rewritten behind the application's back (its digest and summary
    # kept): re-executed, the case now ends refused at the township.
    payload = {**checked.payload, "data": {**TOWNSHIP_OK, "township_decision": "reject"}}
    raw_update(
        "UPDATE workflows_auditevent SET payload = %s WHERE id = %s",
        [json.dumps(payload, ensure_ascii=False), checked.pk],
    )

    verification = case_verify(case_history(instance=instance))
    problem = verification.mismatch.replay_problem
    assert problem.startswith(f"第 {checked.sequence} 个事件（办结任务 「乡镇初审」）：")
    assert "「县级复核」：重新执行为“未到达”，记录为“办理中”" in problem
    assert "「不予换领」：重新执行为“已完成”，记录为“未到达”" in problem
    assert "数据「初审结论」：重新执行得到 “reject”，与记录的值不同" in problem
    final = "；".join(verification.final_differences)
    assert "「县级复核」：1 个任务只在存储的案件中，重新执行中没有" in final
    assert not UUID.search(problem + final)

    report = instance_replay(instance=instance)
    assert report.first_mismatch.sequence == checked.sequence
    assert report.first_mismatch.message == problem

    client = Client()
    client.force_login(auditor)
    page = client.get(f"/audit/cases/{instance.pk}/").content.decode()
    status = re.search(r'<p class="error" id="replay-status"[^>]*>(.*?)</p>', page, re.S)[1]
    assert "「县级复核」：重新执行为“未到达”，记录为“办理中”" in status
    assert "数据「初审结论」" in status and "「县级复核」：1 个任务只在存储的案件中" in status
    assert not UUID.search(status)


def test_a_stored_state_altered_behind_the_engine_names_the_step_and_the_field(staff, auditor):
    instance = refused_by_the_county(staff)
    instance.refresh_from_db()
    state = json.loads(instance.serialized_state)
    for task in state["tasks"].values():
        if task["task_spec"] == "county_review":
            task["delta"]["updates"]["county_opinion"] = "同意。"
    ProcessInstance.objects.filter(pk=instance.pk).update(serialized_state=json.dumps(state))

    verification = case_verify(case_history(instance=instance))
    assert verification.mismatch is None
    # The step altered first; what inherited its data after it; the engine's own tasks in one.
    assert verification.final_differences == [
        "「县级复核」：数据与存储的案件不同（「复核意见」）",
        "「复核是否同意」：数据与存储的案件不同（「复核意见」）",
        "「不予换领」：数据与存储的案件不同（「复核意见」）",
        "流程引擎的内部步骤：数据与存储的案件不同（「复核意见」）",
    ]
    client = Client()
    client.force_login(auditor)
    page = client.get(f"/audit/cases/{instance.pk}/").content.decode()
    assert "「县级复核」：数据与存储的案件不同（「复核意见」）" in page
