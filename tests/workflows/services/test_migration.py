"""Moving running cases onto a new version: who may, which cases can, and what replay says."""

import pytest

from portal.replay import replay_document
from tests.conftest import BPMN
from workflows.exceptions import Conflict, NotAllowed
from workflows.models import AuditKind, HumanTask, HumanTaskState
from workflows.selectors.case_replay import case_history, case_verify
from workflows.services.definitions import definition_deploy
from workflows.services.instances import instance_start
from workflows.services.migration import instance_migrate, migration_candidates
from workflows.services.replay import instance_replay
from workflows.services.tasks import task_claim, task_complete

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("every_case_replays")]

V1 = (BPMN / "lanes_and_gateway.bpmn").read_text()
# Version 2 adds a step between the township's check and the gateway.
V2 = V1.replace(
    '<bpmn:sequenceFlow id="f2" sourceRef="township_check" targetRef="decision" />',
    '<bpmn:sequenceFlow id="f2" sourceRef="township_check" targetRef="home_visit" />'
    '<bpmn:userTask id="home_visit" name="入户核查" />'
    '<bpmn:sequenceFlow id="f2b" sourceRef="home_visit" targetRef="decision" />',
).replace(
    "<bpmn:flowNodeRef>decision</bpmn:flowNodeRef>",
    "<bpmn:flowNodeRef>decision</bpmn:flowNodeRef><bpmn:flowNodeRef>home_visit</bpmn:flowNodeRef>",
)
# Version 3 drops the township's check: a case waiting there has nowhere to go.
V3 = (
    V1.replace('targetRef="township_check"', 'targetRef="decision"')
    .replace(
        '<bpmn:userTask id="township_check" name="乡镇初审" camunda:formKey="township_check" '
        'camunda:dueDate="P5D" />',
        "",
    )
    .replace('<bpmn:sequenceFlow id="f2" sourceRef="township_check" targetRef="decision" />', "")
    .replace("<bpmn:flowNodeRef>township_check</bpmn:flowNodeRef>", "")
)


@pytest.fixture
def case(owner, township_a):
    """A case started on version 1, which waits at the township's check."""
    definition_deploy(content=V1.encode(), user=owner)
    return instance_start(process_key="lanes_and_gateway", user=township_a)


@pytest.fixture
def versions(case, owner):
    v2 = definition_deploy(content=V2.encode(), user=owner, comment="入户核查").definition
    return case.definition, v2


def test_a_case_moves_to_the_new_version_and_runs_its_new_step(versions, case, owner, township_a):
    v1, v2 = versions
    task = case.human_tasks.get()
    task_claim(task_id=task.pk, user=township_a)

    [candidate] = migration_candidates(target=v2, user=owner)
    assert candidate.instance == case and candidate.plan.possible

    instance_migrate(instance_id=case.pk, to_definition_id=v2.pk, user=owner, reason="新规")
    case.refresh_from_db()
    assert case.definition == v2
    task.refresh_from_db()
    assert task.state == HumanTaskState.OPEN and task.assignee == township_a  # the claim stays
    moved = case.audit_events.get(kind=AuditKind.INSTANCE_MIGRATED)
    assert moved.payload["from_version"] == 1 and moved.payload["to_version"] == 2
    assert moved.payload["reason"] == "新规"

    task_complete(task_id=task.pk, user=township_a, data={"approved": True, "note": "ok"})
    assert HumanTask.objects.get(instance=case, state=HumanTaskState.OPEN).element_id == (
        "home_visit"
    )
    report = instance_replay(instance=case)
    assert report.matches, (report.first_mismatch, report.differences)
    # The auditor's replay follows the case across the move, and verifies it.
    history = case_history(instance=case)
    verification = case_verify(history)
    assert verification.intact and verification.reproduces, verification
    # Each step is drawn on the version it happened on.
    document = replay_document(history)
    assert set(document["diagrams"]) == {str(v1.pk), str(v2.pk)}
    assert document["steps"][0]["diagram"] == v1.pk and document["steps"][-1]["diagram"] == v2.pk


def test_a_case_at_a_removed_step_stays_and_says_why(versions, case, owner):
    v3 = definition_deploy(content=V3.encode(), user=owner).definition
    [candidate] = [c for c in migration_candidates(target=v3, user=owner) if c.instance == case]
    assert not candidate.plan.possible
    assert candidate.plan.blockers[0].element == "township_check"
    with pytest.raises(Conflict, match="township_check.*does not have"):
        instance_migrate(instance_id=case.pk, to_definition_id=v3.pk, user=owner)
    case.refresh_from_db()
    assert case.definition.version == 1
    assert not case.audit_events.filter(kind=AuditKind.INSTANCE_MIGRATED).exists()


def test_only_an_owner_of_the_procedure_may_move_its_cases(versions, case, make_user, township_a):
    _, v2 = versions
    other_owner = make_user("other_owner", ("process_owner", ""))
    auditor = make_user("auditor", ("auditor", ""))
    for user in (township_a, auditor, other_owner):
        with pytest.raises(NotAllowed):
            instance_migrate(instance_id=case.pk, to_definition_id=v2.pk, user=user)
    case.refresh_from_db()
    assert case.definition.version == 1
