"""The audit chain and replay: every change is chained, tampering is named, replay reproduces."""

import json

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tests.conftest import BPMN, TOWNSHIP_A, TOWNSHIP_B
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
    """Tamper with the table directly, as a database superuser could: on PostgreSQL by first
    switching triggers off (the append-only trigger refuses everyone else)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")


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
    # Rewrite history behind the application's back, flipping the decision.
    raw_update(
        "UPDATE workflows_auditevent SET payload = %s WHERE id = %s",
        ['{"data": {"approved": false}}', event.pk],
    )
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


@pytest.mark.postgres
def test_postgresql_refuses_to_update_or_delete_audit_events(finished_case):
    from django.db import DatabaseError, transaction

    event = finished_case.audit_events.first()
    for attempt in (
        lambda: AuditEvent.objects.filter(pk=event.pk).update(actor="someone else"),
        lambda: AuditEvent.objects.filter(pk=event.pk).delete(),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    event.refresh_from_db()
    assert event.actor == "township_a"


@pytest.mark.postgres
def test_protect_audit_log_withholds_truncate_from_the_application_role(finished_case):
    from django.db import DatabaseError, transaction

    with connection.cursor() as cursor:
        cursor.execute("DROP ROLE IF EXISTS fuzhu_app_test")
        cursor.execute("CREATE ROLE fuzhu_app_test")
        cursor.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO fuzhu_app_test")
    call_command("protect_audit_log", "fuzhu_app_test")
    refused = pytest.raises(DatabaseError, match="permission denied")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL ROLE fuzhu_app_test")
        cursor.execute("TRUNCATE workflows_auditevent CASCADE")
    assert finished_case.audit_events.exists()
    with connection.cursor() as cursor:
        cursor.execute("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM fuzhu_app_test")
        cursor.execute("DROP ROLE fuzhu_app_test")


def _standalone_verify(tmp_path, export) -> tuple[int, str]:
    import subprocess
    import sys

    path = tmp_path / "history.json"
    path.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    script = django_settings.BASE_DIR / "tools" / "verify_audit_export.py"
    done = subprocess.run(
        [sys.executable, str(script), str(path)], capture_output=True, text=True, check=False
    )
    return done.returncode, done.stdout.strip()


def test_an_exported_history_verifies_outside_fuzhu_and_tampering_is_named(
    finished_case, api, make_user, tmp_path
):
    auditor = make_user("shenji", ("auditor", ""))
    response = api(auditor).get(f"/api/process-instances/{finished_case.pk}/history/export/")
    assert response.status_code == 200
    export = response.json()
    assert export["format"] == "fuzhu-audit-export/1"
    assert len(export["events"]) == finished_case.audit_sequence
    code, out = _standalone_verify(tmp_path, export)
    events = finished_case.audit_sequence  # started, claims and completions, completed
    assert (code, out) == (
        0,
        f"OK instance:{finished_case.pk}: {events} events, the chain is intact",
    )

    export["events"][2]["payload"]["data"]["comment"] = "不同意"
    code, out = _standalone_verify(tmp_path, export)
    assert (code, out) == (
        1,
        f"BROKEN instance:{finished_case.pk}: event 3: its content was altered",
    )
    del export["events"][1]
    code, out = _standalone_verify(tmp_path, export)
    assert out.endswith("event 2 is missing (found 3 next)")


def test_the_scheduled_verification_keeps_its_result(finished_case):
    from workflows.models import AuditVerification
    from workflows.services.verification import audit_verification_due, audit_verify_scheduled

    assert audit_verification_due()
    run = audit_verify_scheduled()
    assert run.intact and run.events_checked >= 4
    assert not audit_verification_due()
    last = finished_case.audit_events.order_by("-sequence").first()
    raw_update("DELETE FROM workflows_auditevent WHERE id = %s", [last.pk])
    broken = audit_verify_scheduled()
    assert not broken.intact
    assert broken.breaks[0]["stream"] == f"instance:{finished_case.pk}"
    assert AuditVerification.objects.count() == 2


def test_an_auditor_reads_everything_and_changes_nothing(finished_case, deploy, make_user, api):
    from workflows.models import HumanTask

    auditor = make_user("auditor_z", ("auditor", ""))
    client = api(auditor)
    assert client.get(f"/api/process-instances/{finished_case.pk}/").status_code == 200
    assert client.get(f"/api/process-instances/{finished_case.pk}/history/").status_code == 200
    running = instance_start(process_key="lanes_and_gateway", user=finished_case.started_by)
    task = HumanTask.objects.get(instance=running, state="open")
    refusals = {
        "start": client.post(
            "/api/process-instances/", {"process_key": "lanes_and_gateway"}, format="json"
        ),
        "claim": client.post(f"/api/tasks/{task.pk}/claim/"),
        "complete": client.post(f"/api/tasks/{task.pk}/complete/", {"data": {}}, format="json"),
        "suspend": client.post(f"/api/process-instances/{running.pk}/suspend/", {"reason": "x"}),
        "terminate": client.post(
            f"/api/process-instances/{running.pk}/terminate/", {"reason": "x"}, format="json"
        ),
        "deploy": client.post(
            "/api/process-definitions/",
            {"file": open(BPMN / "six_steps.bpmn", "rb")},  # noqa: SIM115
            format="multipart",
        ),
        "message": client.post(
            "/api/messages/", {"name": "x", "correlation_key": "y"}, format="json"
        ),
    }
    assert {door: r.status_code for door, r in refusals.items()} == {door: 403 for door in refusals}
    task.refresh_from_db()
    assert task.state == "open" and task.assignee is None


def test_the_scheduled_verification_re_executes_every_case(finished_case):
    """A state altered outside the engine (the hash chain is intact) is found by re-execution,
    and the report names the case."""
    import json

    from workflows.models import ProcessInstance
    from workflows.services.verification import audit_verify_scheduled

    clean = audit_verify_scheduled()
    assert clean.intact and clean.instances_replayed >= 1 and clean.replay_mismatches == []
    state = json.loads(finished_case.serialized_state)
    task = next(iter(state["tasks"].values()))
    task["data"]["approved_amount"] = 999999
    ProcessInstance.objects.filter(pk=finished_case.pk).update(serialized_state=json.dumps(state))
    run = audit_verify_scheduled()
    assert run.breaks == [] and not run.intact
    (mismatch,) = run.replay_mismatches
    assert mismatch["instance"] == finished_case.pk
    assert "数据与存储的案件不同" in mismatch["message"]
