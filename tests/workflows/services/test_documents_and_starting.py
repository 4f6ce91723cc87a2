"""Documents on a case, and who may start a procedure (guardian permission on the definition)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from guardian.shortcuts import assign_perm

from tests.conftest import TOWNSHIP_A
from workflows.exceptions import DeploymentRefused, InvalidInput, NotAllowed
from workflows.models import Attachment
from workflows.services.definitions import definition_deploy
from workflows.services.documents import document_attach
from workflows.services.instances import instance_start
from workflows.services.starting import (
    ROLE_GROUP_PREFIX,
    START_PERMISSION,
    definition_start_roles,
    startable_definitions,
)

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32

STARTERS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="http://x">
  <bpmn:process id="starters" name="谁可发起" isExecutable="true">
    <bpmn:extensionElements><camunda:properties>
      <camunda:property name="start_roles" value="{roles}" />
    </camunda:properties></bpmn:extensionElements>
    <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="t" />
    <bpmn:userTask id="t" name="办理" camunda:candidateGroups="county_staff" />
    <bpmn:sequenceFlow id="g" sourceRef="t" targetRef="e" /><bpmn:endEvent id="e" />
  </bpmn:process>
</bpmn:definitions>"""


def test_a_document_is_kept_with_its_checksum(deploy, township_a):
    deploy("lanes_and_gateway")
    instance = instance_start(process_key="lanes_and_gateway", user=township_a)
    upload = SimpleUploadedFile("a.jpg", JPEG)
    attachment = document_attach(instance_id=instance.pk, user=township_a, upload=upload)
    assert attachment.content_type == "image/jpeg" and attachment.size == len(JPEG)
    assert attachment.file.read() == JPEG


def test_an_auditor_may_read_but_not_attach(deploy, township_a, make_user):
    auditor = make_user("auditor", ("auditor", ""))
    deploy("lanes_and_gateway")
    instance = instance_start(process_key="lanes_and_gateway", user=township_a)
    with pytest.raises(NotAllowed):
        document_attach(
            instance_id=instance.pk, user=auditor, upload=SimpleUploadedFile("a.jpg", JPEG)
        )
    with pytest.raises(InvalidInput):
        document_attach(instance_id=instance.pk, user=township_a, upload=None)
    assert not Attachment.objects.exists()


def test_start_roles_come_from_the_first_lane_and_are_granted_at_deploy(deploy, township_a):
    definition = deploy("lanes_and_gateway")
    assert definition_start_roles(definition) == ["township_staff"]
    group = Group.objects.get(name=ROLE_GROUP_PREFIX + "township_staff")
    assert group.groupobjectpermission_set.filter(permission__codename=START_PERMISSION).exists()
    assert [d.key for d, _ in startable_definitions(township_a)] == ["lanes_and_gateway"]


def test_only_the_named_roles_may_start(owner, township_a, county_clerk):
    content = STARTERS.format(roles="county_staff").encode()
    definition = definition_deploy(content=content, user=owner).definition
    with pytest.raises(NotAllowed, match="您无权在 .* 发起"):
        instance_start(process_key="starters", user=township_a)
    assert instance_start(process_key="starters", user=county_clerk, org_unit=TOWNSHIP_A)
    assert instance_start(process_key="starters", user=None, org_unit=TOWNSHIP_A)  # the system
    assert startable_definitions(township_a) == []
    # A permission given to one person (guardian) lets them start too.
    assign_perm(START_PERMISSION, township_a, definition)
    assert instance_start(process_key="starters", user=township_a)


def test_start_roles_must_name_roles(owner):
    with pytest.raises(DeploymentRefused, match="start_roles 中的“mayor”不是角色"):
        definition_deploy(content=STARTERS.format(roles="mayor").encode(), user=owner)


def test_a_procedure_that_names_no_starters_stays_open_to_working_roles(deploy, county_clerk):
    deploy("six_steps")
    assert [d.key for d, _ in startable_definitions(county_clerk)] == ["six_steps"]
