"""The process pack's files and the modeler's versions: neither silently undoes the other."""

import json

import pytest
from django.core.management import call_command

from tests.conftest import BPMN
from workflows.models import ProcessDefinition
from workflows.services.definitions import definition_deploy

pytestmark = pytest.mark.django_db

LANES = (BPMN / "lanes_and_gateway.bpmn").read_text()


def test_a_modeler_version_is_exported_to_files_and_kept_by_deploy_processes(
    owner, tmp_path, settings
):
    pack = tmp_path / "bpmn"
    pack.mkdir()
    (pack / "lanes_and_gateway.bpmn").write_text(LANES, encoding="utf-8")
    call_command("deploy_processes", str(pack))
    changed = LANES.replace("两级审核", "两级审核（修订）")
    definition_deploy(content=changed.encode(), user=owner, comment="改名")

    call_command("deploy_processes", str(pack))  # the file would undo the owner's change
    assert ProcessDefinition.objects.filter(key="lanes_and_gateway").count() == 2

    forms = tmp_path / "forms"
    call_command("export_processes", "--bpmn-dir", str(pack), "--forms-dir", str(forms))
    assert (pack / "lanes_and_gateway.bpmn").read_text(encoding="utf-8") == changed
    exported = json.loads((forms / "township_check.form").read_text(encoding="utf-8"))
    assert exported["components"][0]["key"] == "approved"

    call_command("deploy_processes", str(pack), "--over-modeler")  # same content: no new version
    assert ProcessDefinition.objects.filter(key="lanes_and_gateway").count() == 2
