"""Claiming and completing tasks: who may, what conflicts, what a failure leaves behind."""

import threading

import pytest
from django.db import connection

from tests.conftest import TOWNSHIP_A
from workflows.exceptions import Conflict, IncidentRaised, InvalidInput, NotAllowed, NotFound
from workflows.models import AuditEvent, AuditKind, HumanTask, HumanTaskState, InstanceState
from workflows.services.instances import instance_retry, instance_start, instance_suspend
from workflows.services.tasks import task_claim, task_complete, task_save_draft, task_unclaim

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(deploy, township_a):
    deploy("lanes_and_gateway")
    instance = instance_start(process_key="lanes_and_gateway", user=township_a)
    return instance.human_tasks.get()


def test_claim_then_unclaim_records_both_in_the_audit_chain(survey, township_a):
    task_claim(task_id=survey.pk, user=township_a)
    survey.refresh_from_db()
    assert survey.assignee == township_a and survey.claimed_at is not None
    task_unclaim(task_id=survey.pk, user=township_a)
    survey.refresh_from_db()
    assert survey.assignee is None
    kinds = list(AuditEvent.objects.filter(instance=survey.instance).values_list("kind", flat=True))
    assert kinds[-2:] == [AuditKind.TASK_CLAIMED, AuditKind.TASK_UNCLAIMED]


def test_a_task_claimed_by_someone_else_cannot_be_claimed_or_completed(
    survey, township_a, make_user
):
    colleague = make_user("colleague", ("township_staff", TOWNSHIP_A))
    task_claim(task_id=survey.pk, user=township_a)
    with pytest.raises(Conflict, match="已由township_a认领"):
        task_claim(task_id=survey.pk, user=colleague)
    with pytest.raises(Conflict, match="已由township_a认领"):
        task_complete(task_id=survey.pk, user=colleague, data={"approved": True})
    with pytest.raises(Conflict, match="已由township_a认领"):
        task_unclaim(task_id=survey.pk, user=colleague)


def test_a_user_of_another_township_is_refused(survey, township_b):
    with pytest.raises(NotAllowed, match="不属于您的岗位或组织机构"):
        task_claim(task_id=survey.pk, user=township_b)
    with pytest.raises(NotAllowed):
        task_complete(task_id=survey.pk, user=township_b, data={})
    survey.refresh_from_db()
    assert survey.state == HumanTaskState.OPEN and survey.assignee is None


def test_an_auditor_can_read_but_not_work_a_task(survey, make_user):
    auditor = make_user("auditor", ("auditor", ""))
    with pytest.raises(NotAllowed):
        task_complete(task_id=survey.pk, user=auditor, data={})


def test_second_completion_of_a_task_is_refused_with_conflict(survey, township_a):
    task_complete(task_id=survey.pk, user=township_a, data={"approved": False})
    with pytest.raises(Conflict, match="已由township_a处理，当前为“已完成”"):
        task_complete(task_id=survey.pk, user=township_a, data={"approved": True})
    instance = survey.instance
    instance.refresh_from_db()
    assert instance.state == InstanceState.COMPLETED
    assert instance.variables["approved"] is False


@pytest.mark.parametrize("data", [[1, 2], "approved", 3])
def test_data_that_is_not_a_json_object_is_refused(survey, township_a, data):
    with pytest.raises(InvalidInput, match="data 必须是一个 JSON 对象"):
        task_complete(task_id=survey.pk, user=township_a, data=data)
    survey.refresh_from_db()
    assert survey.state == HumanTaskState.OPEN


def test_unknown_task_is_not_found(db, township_a):
    with pytest.raises(NotFound, match="任务 999999 不存在"):
        task_complete(task_id=999999, user=township_a, data={})


def test_a_draft_keeps_data_without_completing(survey, township_a):
    task_save_draft(task_id=survey.pk, user=township_a, data={"note": "待补材料"})
    survey.refresh_from_db()
    assert survey.draft_data == {"note": "待补材料"} and survey.state == HumanTaskState.OPEN


def test_a_suspended_instance_refuses_completion(survey, township_a, owner):
    instance_suspend(instance_id=survey.instance_id, user=owner, reason="核查材料")
    with pytest.raises(Conflict, match="案件已挂起"):
        task_complete(task_id=survey.pk, user=township_a, data={"approved": True})


def test_a_failing_script_raises_an_incident_and_keeps_the_entered_data(
    deploy, county_clerk, owner
):
    deploy("failing_condition")
    instance = instance_start(process_key="failing_condition", user=county_clerk)
    task = instance.human_tasks.get()
    state_before = instance.serialized_state
    with pytest.raises(IncidentRaised, match="步骤 divide 出错：ZeroDivisionError"):
        task_complete(task_id=task.pk, user=county_clerk, data={"total": 100, "persons": 0})
    instance.refresh_from_db()
    task.refresh_from_db()
    assert instance.state == InstanceState.INCIDENT
    assert instance.incident_element == "divide"
    assert "ZeroDivisionError" in instance.incident_message
    assert task.state == HumanTaskState.OPEN
    assert task.draft_data == {"total": 100, "persons": 0}  # nothing typed is lost
    assert instance.serialized_state == state_before  # nothing half-applied
    assert HumanTask.objects.filter(instance=instance).count() == 1
    last = instance.audit_events.order_by("-sequence").first()
    assert last.kind == AuditKind.INCIDENT_RAISED and last.payload["data"]["persons"] == 0

    with pytest.raises(Conflict, match="案件出现故障"):
        task_complete(task_id=task.pk, user=county_clerk, data={"total": 100, "persons": 4})
    instance_retry(instance_id=instance.pk, user=owner)
    task_complete(task_id=task.pk, user=county_clerk, data={"total": 100, "persons": 4})
    instance.refresh_from_db()
    assert instance.state == InstanceState.RUNNING
    assert instance.variables["per_person"] == 25


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_racing_completions_of_one_task_advance_the_instance_once(deploy, township_a):
    deploy("lanes_and_gateway")
    instance = instance_start(process_key="lanes_and_gateway", user=township_a)
    task = instance.human_tasks.get()
    barrier = threading.Barrier(2)
    outcomes = []

    def complete():
        try:
            barrier.wait()
            task_complete(task_id=task.pk, user=township_a, data={"approved": True})
            outcomes.append("ok")
        except Conflict as exc:
            outcomes.append(f"conflict: {exc.message}")
        finally:
            connection.close()

    threads = [threading.Thread(target=complete) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [
        "conflict: 任务“乡镇初审”已由township_a处理，当前为“已完成”。",
        "ok",
    ]
    instance.refresh_from_db()
    completions = instance.audit_events.filter(kind=AuditKind.TASK_COMPLETED).count()
    assert completions == 1
    assert list(instance.human_tasks.values_list("element_id", "state").order_by("pk")) == [
        ("township_check", HumanTaskState.COMPLETED),
        ("county_review", HumanTaskState.OPEN),
    ]
