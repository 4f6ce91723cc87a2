"""Drafts: saved without deploying, never overwritten by a second owner, checked like deploy,
deployed by the procedure's owners only, with their forms frozen in the version."""

import pytest

from tests.conftest import BPMN
from workflows.exceptions import Conflict, DeploymentRefused, InvalidInput, NotAllowed
from workflows.models import ProcessDefinition
from workflows.services.definitions import definition_deploy
from workflows.services.drafts import (
    draft_check,
    draft_deploy,
    draft_open,
    draft_save,
    procedure_create,
)
from workflows.services.instances import instance_start
from workflows.services.procedures import procedure_share
from workflows.services.tasks import task_complete

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


LANES = (BPMN / "lanes_and_gateway.bpmn").read_text()
STRICTER_CHECK = {
    "type": "default",
    "components": [
        {"type": "checkbox", "key": "approved", "label": "通过"},
        {"type": "textfield", "key": "note", "label": "意见", "validate": {"required": True}},
    ],
}


@pytest.fixture
def deployed(owner):
    return definition_deploy(content=LANES.encode(), user=owner).definition


def test_a_draft_starts_as_the_latest_version_with_its_forms(deployed, owner):
    draft = draft_open(key="lanes_and_gateway", user=owner)
    assert draft.bpmn_xml == deployed.bpmn_xml and draft.revision == 1
    assert draft.forms["township_check"]["components"][0]["key"] == "approved"
    assert deployed.forms == draft.forms  # frozen when it was deployed


def test_the_second_owner_saving_the_same_revision_is_told_and_overwrites_nothing(
    deployed, owner, make_user
):
    colleague = make_user("colleague", ("process_owner", ""))
    procedure_share(procedure=deployed_procedure(), user=owner, with_user=colleague)
    mine = LANES.replace("两级审核", "两级审核（新）")
    draft_save(key="lanes_and_gateway", user=owner, bpmn_xml=mine, forms=None, revision=1)
    with pytest.raises(Conflict, match=r"owner saved this draft .*\(revision 2\)"):
        draft_save(key="lanes_and_gateway", user=colleague, bpmn_xml=LANES, forms=None, revision=1)
    assert draft_open(key="lanes_and_gateway", user=owner).bpmn_xml == mine


def deployed_procedure():
    from workflows.models import Procedure

    return Procedure.objects.get(key="lanes_and_gateway")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("<bpmn:definitions", "not valid BPMN XML"),
        ("not xml at all", "not valid BPMN XML"),
        (
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
            "not valid BPMN XML",
        ),
        (LANES.replace('id="lanes_and_gateway"', 'id="another"'), "process id is “another”"),
    ],
)
def test_a_diagram_that_cannot_be_stored_is_refused_and_the_draft_kept(
    deployed, owner, content, message
):
    with pytest.raises(InvalidInput, match=message):
        draft_save(key="lanes_and_gateway", user=owner, bpmn_xml=content, forms=None, revision=1)
    assert draft_open(key="lanes_and_gateway", user=owner).bpmn_xml == LANES


def test_a_diagram_the_server_refuses_is_saved_but_not_deployed(deployed, owner):
    unsafe = (
        LANES.replace('name="县级复核"', 'name="县级复核" camunda:candidateGroups="no_such_role"')
        .replace(
            '<bpmn:endEvent id="rejected_end" name="不通过" />',
            '<bpmn:scriptTask id="sneaky" name="脚本"><bpmn:script>import os</bpmn:script>'
            '</bpmn:scriptTask><bpmn:endEvent id="rejected_end" name="不通过" />',
        )
        .replace('targetRef="rejected_end" />', 'targetRef="sneaky" />')
        .replace(
            "</bpmn:process>",
            '<bpmn:sequenceFlow id="f_end" sourceRef="sneaky" targetRef="rejected_end" />'
            "</bpmn:process>",
        )
    )
    draft = draft_save(key="lanes_and_gateway", user=owner, bpmn_xml=unsafe, forms=None, revision=1)
    check = draft_check(key="lanes_and_gateway", user=owner)
    elements = {p.element for p in check.problems}
    assert {"county_review", "sneaky"} <= elements
    assert all(p.line for p in check.problems if p.element in ("county_review", "sneaky"))
    with pytest.raises(DeploymentRefused) as refused:
        draft_deploy(key="lanes_and_gateway", user=owner, revision=draft.revision, comment="试")
    assert {p.element for p in refused.value.problems} >= {"county_review", "sneaky"}
    assert ProcessDefinition.objects.filter(key="lanes_and_gateway").count() == 1


def test_only_the_procedures_owners_may_deploy_it(deployed, owner, make_user, township_a):
    other_owner = make_user("other_owner", ("process_owner", ""))
    auditor = make_user("auditor", ("auditor", ""))
    for user in (township_a, auditor, other_owner):
        with pytest.raises(NotAllowed):
            draft_deploy(key="lanes_and_gateway", user=user, revision=1, comment="试")
        with pytest.raises(NotAllowed):
            definition_deploy(content=LANES.replace("两级", "三级").encode(), user=user)
    procedure_share(procedure=deployed_procedure(), user=owner, with_user=other_owner)
    draft_save(
        key="lanes_and_gateway",
        user=other_owner,
        bpmn_xml=LANES.replace("两级", "三级"),
        forms=None,
        revision=1,
    )
    deployment = draft_deploy(key="lanes_and_gateway", user=other_owner, revision=2, comment="改名")
    assert deployment.definition.version == 2 and deployment.definition.comment == "改名"


def test_a_submission_is_validated_against_the_form_its_version_deployed(
    deployed, owner, township_a
):
    old_case = instance_start(process_key="lanes_and_gateway", user=township_a)
    draft = draft_open(key="lanes_and_gateway", user=owner)
    draft_save(
        key="lanes_and_gateway",
        user=owner,
        bpmn_xml=draft.bpmn_xml.replace("两级审核", "两级审核（意见必填）"),
        forms={"township_check": STRICTER_CHECK},
        revision=draft.revision,
    )
    draft_deploy(key="lanes_and_gateway", user=owner, revision=draft.revision + 1, comment="必填")
    new_case = instance_start(process_key="lanes_and_gateway", user=township_a)
    with pytest.raises(InvalidInput, match="note"):
        task_complete(
            task_id=new_case.human_tasks.get().pk, user=township_a, data={"approved": True}
        )
    # The case on version 1 keeps version 1's form, where the note was optional.
    task_complete(task_id=old_case.human_tasks.get().pk, user=township_a, data={"approved": True})


def test_a_new_procedure_is_its_creators_and_starts_from_a_runnable_diagram(owner, make_user):
    draft = procedure_create(key="home_care", name="居家托养", user=owner)
    check = draft_check(key="home_care", user=owner)
    assert check.ok, check.problems
    with pytest.raises(InvalidInput, match="exists already"):
        procedure_create(key="home_care", name="again", user=owner)
    with pytest.raises(InvalidInput, match="letters"):
        procedure_create(key="1 bad key", name="x", user=owner)
    other_owner = make_user("other_owner", ("process_owner", ""))
    with pytest.raises(NotAllowed):
        draft_deploy(key="home_care", user=other_owner, revision=draft.revision, comment="x")
    deployment = draft_deploy(key="home_care", user=owner, revision=draft.revision, comment="新")
    assert deployment.definition.name == "居家托养"
