"""Messages and signals: delivered by name and correlation key, never silently lost."""

import pytest

from tests.conftest import TOWNSHIP_A
from workflows.exceptions import Conflict, InvalidInput, NotFound
from workflows.models import AuditKind, InstanceState, Job, JobState, ProcessInstance
from workflows.services.instances import instance_start, instance_suspend
from workflows.services.jobs import job_run, jobs_sweep
from workflows.services.messages import message_send, signal_broadcast
from workflows.services.replay import instance_replay
from workflows.services.tasks import task_complete

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("every_case_replays")]


def open_elements(instance):
    instance.refresh_from_db()
    return sorted(instance.human_tasks.filter(state="open").values_list("element_id", flat=True))


@pytest.fixture
def waiting_case(deploy, township_a):
    deploy("messages")
    delivery = message_send(
        name="application_received",
        correlation_key="APP-7",
        payload={"applicant": "王五"},
        user=township_a,
    )
    [instance_id] = delivery.started
    return ProcessInstance.objects.get(pk=instance_id)


def test_a_start_message_starts_the_procedure_with_its_payload(waiting_case):
    assert waiting_case.business_key == "APP-7"
    assert waiting_case.variables["applicant"] == "王五"
    assert waiting_case.state == InstanceState.WAITING
    names = set(waiting_case.subscriptions.values_list("kind", "name"))
    assert names == {("message", "documents_supplied"), ("signal", "policy_changed")}


def test_a_message_reaches_the_instance_with_its_correlation_key(waiting_case, township_a):
    delivery = message_send(
        name="documents_supplied", correlation_key="APP-7", payload={"pages": 3}, user=township_a
    )
    assert delivery.delivered_to == [waiting_case.pk]
    signal_broadcast(name="policy_changed", payload={}, user=township_a)
    assert open_elements(waiting_case) == ["check"]
    assert waiting_case.variables["pages"] == 3
    kinds = list(waiting_case.audit_events.values_list("kind", flat=True))
    assert kinds.count(AuditKind.EVENT_RECEIVED) == 2
    assert instance_replay(instance=waiting_case).matches


def test_a_message_with_another_key_is_refused_not_lost(waiting_case, township_a):
    with pytest.raises(NotFound) as refused:
        message_send(
            name="documents_supplied", correlation_key="APP-8", payload={}, user=township_a
        )
    assert refused.value.message == (
        "没有案件在等待关联键为“APP-8”的消息“documents_supplied”，也没有业务由该消息发起。"
    )
    assert waiting_case.subscriptions.filter(name="documents_supplied").exists()


def test_a_message_without_the_required_correlation_key_is_a_400(waiting_case, township_a, api):
    with pytest.raises(InvalidInput, match="需要 correlation_key"):
        message_send(name="documents_supplied", correlation_key="", payload={}, user=township_a)
    response = api(township_a).post(
        "/api/messages/", {"name": "documents_supplied", "payload": {}}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "correlation_key", "message": "此消息必须填写此项。"}
    ]


def test_an_unknown_message_is_a_404_through_the_api(db, township_a, api):
    response = api(township_a).post(
        "/api/messages/", {"name": "nobody_waits", "correlation_key": "X"}, format="json"
    )
    assert response.status_code == 404
    assert "的消息“nobody_waits”，也没有业务由该消息发起" in response.json()["detail"]


def test_a_suspended_instance_refuses_the_message_with_a_409(waiting_case, township_a, owner, api):
    instance_suspend(instance_id=waiting_case.pk, user=owner, reason="核查")
    response = api(township_a).post(
        "/api/messages/",
        {"name": "documents_supplied", "correlation_key": "APP-7", "payload": {}},
        format="json",
    )
    assert response.status_code == 409
    with pytest.raises(Conflict):
        message_send(
            name="documents_supplied", correlation_key="APP-7", payload={}, user=township_a
        )


def test_a_signal_nobody_waits_for_is_a_404(db, township_a):
    with pytest.raises(NotFound, match="没有案件在等待信号“quiet”"):
        signal_broadcast(name="quiet", payload={}, user=township_a)


def test_a_message_thrown_by_one_instance_reaches_another(waiting_case, deploy, township_a):
    deploy("message_throw")
    sender = instance_start(
        process_key="message_throw",
        user=township_a,
        org_unit=TOWNSHIP_A,
        variables={"target": "APP-7", "pages": 12},
    )
    task = sender.human_tasks.get()
    task_complete(task_id=task.pk, user=township_a, data={})
    sender.refresh_from_db()
    assert sender.state == InstanceState.COMPLETED
    [job] = Job.objects.filter(instance=sender)
    assert job.payload["correlation_key"] == "APP-7"
    assert jobs_sweep() == [job.pk]
    assert job_run(job_id=job.pk) == "done"
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.result == {"delivered_to": [waiting_case.pk]}
    waiting_case.refresh_from_db()
    assert waiting_case.variables["pages"] == 12
