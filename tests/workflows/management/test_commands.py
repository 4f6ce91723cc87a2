"""The operators' commands: deploy the pack, grant roles (load_demo: tests/registry)."""

import shutil

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.conftest import BPMN, TOWNSHIP_A
from workflows.models import AuditEvent, AuditKind, ProcessDefinition
from workflows.scopes import resolver
from workflows.services.instances import instance_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def pack(tmp_path, settings):
    for name in ("lanes_and_gateway", "call_activity"):
        shutil.copy(BPMN / f"{name}.bpmn", tmp_path / f"{name}.bpmn")
    settings.WORKFLOWS = {**settings.WORKFLOWS, "PROCESS_DIRS": [tmp_path]}
    return tmp_path


def test_deploy_processes_is_idempotent_and_versions_changed_files(pack, capsys, township_a):
    call_command("deploy_processes")
    assert "deployed   lanes_and_gateway v1" in capsys.readouterr().out
    running = instance_start(process_key="lanes_and_gateway", user=township_a)

    call_command("deploy_processes")
    assert "unchanged  lanes_and_gateway v1" in capsys.readouterr().out
    assert ProcessDefinition.objects.filter(key="lanes_and_gateway").count() == 1

    diagram = pack / "lanes_and_gateway.bpmn"
    diagram.write_text(diagram.read_text().replace("县级复核", "县级复核（新版）"))
    call_command("deploy_processes")
    assert "deployed   lanes_and_gateway v2" in capsys.readouterr().out
    running.refresh_from_db()
    assert running.definition.version == 1  # a running case stays on its version
    fresh = instance_start(process_key="lanes_and_gateway", user=township_a)
    assert fresh.definition.version == 2


def test_deploy_processes_reports_every_problem_and_fails(pack, capsys):
    (pack / "broken.bpmn").write_text("<not-bpmn")
    with pytest.raises(CommandError, match="1 diagram"):
        call_command("deploy_processes")
    # Chinese, as every deploy message is by default.
    assert "broken.bpmn:1: -: 文件不是格式正确的 XML" in capsys.readouterr().err


def test_grant_role_everywhere_and_within_an_org_unit(make_user, capsys):
    make_user("li")
    call_command("grant_role", "li", "county_staff")
    call_command("grant_role", "li", "township_staff", "--org-unit", TOWNSHIP_A)
    li = get_user_model().objects.get(username="li")
    grants = {(g.role, g.scope) for g in resolver().grants(li)}
    assert grants == {("county_staff", ""), ("township_staff", TOWNSHIP_A)}
    assert AuditEvent.objects.filter(kind=AuditKind.ROLE_GRANTED).count() == 2


def test_grant_role_refuses_unknown_users_and_roles(make_user):
    make_user("li")
    with pytest.raises(CommandError, match="no user named 'nobody'"):
        call_command("grant_role", "nobody", "county_staff")
    with pytest.raises(CommandError, match="unknown role 'mayor'"):
        call_command("grant_role", "li", "mayor")
