"""The audit chain and replay: every change is chained, tampering is named, replay reproduces."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tests.conftest import TOWNSHIP_A, TOWNSHIP_B
from workflows.models import AuditEvent, AuditKind, ProcessInstance
from workflows.services.audit import audit_verify, instance_stream
from workflows.services.instances import instance_start
from workflows.services.replay import instance_replay
from workflows.services.tasks import task_claim, task_complete

pytestmark = pytest.mark.django_db


def work_through(instance, users_by_role, data_by_element):
    """Complete open tasks until none is left, with the data given per element."""
    while True:
        task = instance.human_tasks.filter(state="open").order_by("pk").first()
        if task is None:
            return
        user = users_by_role[task.candidate_roles[0]]
        task_claim(task_id=task.pk, user=user)
        task_complete(task_id=task.pk, user=user, data=data_by_element.get(task.element_id, {}))


@pytest.fixture
def finished_case(deploy, township_a, county_clerk):
    deploy("lanes_and_gateway")
    instance = instance_start(process_key="lanes_and_gateway", user=township_a, business_key="A-1")
    work_through(
        instance,
        {"township_staff": township_a, "county_staff": county_clerk},
        {"township_check": {"approved": True}, "county_review": {"comment": "同意"}},
    )
    instance.refresh_from_db()
    return instance


def raw_update(sql, params):
    """Tamper with the table directly, as someone with database access could."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_every_change_is_chained_and_the_chain_verifies(finished_case):
    events = list(finished_case.audit_events.order_by("sequence"))
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert all(e.previous_hash == p.hash for p, e in zip(events, events[1:], strict=False))
    assert finished_case.audit_head == events[-1].hash
    checked, breaks = audit_verify()
    assert breaks == [] and checked >= len(events)


def test_a_changed_payload_is_named_by_verify(finished_case):
    event = finished_case.audit_events.get(
        kind=AuditKind.TASK_COMPLETED, element_id="county_review"
    )
    raw_update(
        "UPDATE workflows_auditevent SET payload = %s WHERE id = %s",
        ['{"data": {"comment": "不同意"}}', event.pk],
    )
    _, breaks = audit_verify()
    assert [(b.stream, b.sequence, b.message) for b in breaks] == [
        (instance_stream(finished_case.pk), event.sequence, "its content was altered")
    ]
    with pytest.raises(CommandError, match="1 broken chain"):
        call_command("verify_audit")


def test_a_deleted_event_is_named_by_verify(finished_case):
    event = finished_case.audit_events.get(sequence=3)
    raw_update("DELETE FROM workflows_auditevent WHERE id = %s", [event.pk])
    _, breaks = audit_verify()
    assert [(b.sequence, b.message) for b in breaks] == [(3, "event 3 is missing (found 4 next)")]


def test_a_deleted_last_event_is_named_by_the_head_kept_on_the_instance(finished_case):
    last = finished_case.audit_events.order_by("-sequence").first()
    raw_update("DELETE FROM workflows_auditevent WHERE id = %s", [last.pk])
    _, breaks = audit_verify()
    expected = f"the chain ends at event {last.sequence - 1} but {last.sequence} were written"
    assert [b.message for b in breaks] == [expected]


def test_reordered_events_are_named_by_verify(finished_case):
    first, second = finished_case.audit_events.order_by("sequence")[1:3]
    raw_update("UPDATE workflows_auditevent SET sequence = 1000 WHERE id = %s", [first.pk])
    raw_update(
        "UPDATE workflows_auditevent SET sequence = %s WHERE id = %s", [first.sequence, second.pk]
    )
    raw_update(
        "UPDATE workflows_auditevent SET sequence = %s WHERE id = %s", [second.sequence, first.pk]
    )
    _, breaks = audit_verify()
    assert len(breaks) == 1 and breaks[0].sequence == first.sequence


def test_replay_reproduces_a_finished_case_event_by_event(finished_case, capsys):
    report = instance_replay(instance=finished_case)
    assert report.matches, report
    assert [s.kind for s in report.steps] == [
        AuditKind.INSTANCE_STARTED,
        AuditKind.TASK_COMPLETED,
        AuditKind.TASK_COMPLETED,
    ]
    call_command("replay_instance", finished_case.pk)
    assert "the replay matches the stored state" in capsys.readouterr().out


def test_replay_of_a_running_multi_instance_case_matches(
    deploy, county_clerk, township_a, township_b
):
    deploy("multi_instance")
    instance = instance_start(
        process_key="multi_instance",
        user=county_clerk,
        variables={"townships": [TOWNSHIP_A, TOWNSHIP_B]},
    )
    task = instance.human_tasks.get(scope=TOWNSHIP_A)
    task_complete(task_id=task.pk, user=township_a, data={"new_applicants": 2})
    instance.refresh_from_db()
    assert instance_replay(instance=instance).matches


def test_replay_names_the_event_whose_recorded_input_was_altered(finished_case):
    event = finished_case.audit_events.get(
        kind=AuditKind.TASK_COMPLETED, element_id="township_check"
    )
    # Rewrite history through the ORM's bulk path (no model save), flipping the decision.
    AuditEvent.objects.filter(pk=event.pk).update(payload={"data": {"approved": False}})
    report = instance_replay(instance=finished_case)
    assert not report.matches
    assert report.first_mismatch.sequence == event.sequence


def test_replay_command_fails_loudly_on_a_mismatch(finished_case):
    ProcessInstance.objects.filter(pk=finished_case.pk).update(
        serialized_state=_altered_state(finished_case)
    )
    with pytest.raises(CommandError, match="does not match"):
        call_command("replay_instance", finished_case.pk)


def _altered_state(instance) -> str:
    def fragment(value):
        return json.dumps({"comment": value})[1:-1]  # as the serializer writes it

    altered = instance.serialized_state.replace(fragment("同意"), fragment("不同意"))
    assert altered != instance.serialized_state
    return altered
