"""deploy_processes deploys a diagram with its decision tables (a changed table alone is a new
version); export_processes writes a version's tables back; the API deploy takes .dmn files."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.workflows.services.test_decision_versions import DIAGRAM, table
from workflows.models import ProcessDefinition
from workflows.services.definitions import definition_deploy

pytestmark = pytest.mark.django_db


@pytest.fixture
def pack(tmp_path, settings):
    bpmn, dmn = tmp_path / "bpmn", tmp_path / "dmn"
    bpmn.mkdir()
    dmn.mkdir()
    (bpmn / "grading.bpmn").write_bytes(DIAGRAM)
    (dmn / "band.dmn").write_text(table(), encoding="utf-8")
    settings.WORKFLOWS = {**settings.WORKFLOWS, "PROCESS_DIRS": [bpmn], "DMN_DIRS": [dmn]}
    return tmp_path


def versions():
    return list(ProcessDefinition.objects.filter(key="grading").order_by("version"))


def test_a_changed_table_file_deploys_a_new_version(pack, capsys):
    call_command("deploy_processes")
    assert "deployed   grading v1" in capsys.readouterr().out
    call_command("deploy_processes")
    assert "unchanged  grading v1" in capsys.readouterr().out
    (pack / "dmn" / "band.dmn").write_text(table(limit=2000), encoding="utf-8")
    call_command("deploy_processes")
    assert "deployed   grading v2" in capsys.readouterr().out
    assert [v.decisions["subsidy_band"] for v in versions()] == [table(), table(limit=2000)]


def test_a_bad_table_file_is_reported_at_its_line(pack, capsys):
    (pack / "dmn" / "band.dmn").write_text(table(policy="PRIORITY"), encoding="utf-8")
    with pytest.raises(CommandError, match="1 diagram"):
        call_command("deploy_processes")
    assert capsys.readouterr().err == (
        "subsidy_band.dmn:5: table: 决策表“subsidy_band”第 5 行：hit policy PRIORITY "
        "is not supported: use UNIQUE or COLLECT (UNIQUE takes the first rule that matches, "
        "COLLECT lists every match)\n"
    )


def test_export_writes_the_versions_table_over_the_file_that_holds_it(pack, owner, capsys):
    call_command("deploy_processes")
    definition_deploy(
        content=DIAGRAM, user=owner, comment="限额调整", decisions={"subsidy_band": table(3000)}
    )
    call_command("export_processes")
    out = capsys.readouterr().out
    assert f"wrote {pack / 'dmn' / 'band.dmn'}" in out
    assert (pack / "dmn" / "band.dmn").read_text(encoding="utf-8") == table(3000)
    assert not (pack / "dmn" / "subsidy_band.dmn").exists()  # one file per decision
    call_command("deploy_processes", "--over-modeler")
    assert len(versions()) == 2  # the files now hold version 2: nothing new
    elsewhere = pack / "exported"
    call_command("export_processes", "--dmn-dir", str(elsewhere))
    assert (elsewhere / "subsidy_band.dmn").read_text(encoding="utf-8") == table(3000)


def deploy_by_api(client, *tables: tuple[str, bytes]):
    data = {"file": SimpleUploadedFile("grading.bpmn", DIAGRAM)}
    if tables:
        data["decisions"] = [SimpleUploadedFile(name, content) for name, content in tables]
    return client.post("/api/process-definitions/", data, format="multipart")


def test_the_api_deploys_the_tables_sent_with_the_diagram(pack, api, owner):
    client = api(owner)
    assert deploy_by_api(client).status_code == 201  # the server's file
    response = deploy_by_api(client, ("band.dmn", table(2000).encode()))
    assert (response.status_code, response.json()["version"]) == (201, 2)
    assert versions()[-1].decisions == {"subsidy_band": table(2000)}
    assert deploy_by_api(client).status_code == 200  # nothing sent: version 2's table stays
    response = deploy_by_api(client, ("band.dmn", table(policy="ANY").encode()))
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["decision"] == "subsidy_band" and (error["element"], error["line"]) == (
        "table",
        5,
    )
    response = deploy_by_api(client, ("band.dmn", b"<?xml version='1.0'?><x/>"))
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "message": "band.dmn: the file is not a DMN decision table: its root element is "
            "<x>, not DMN <definitions>",
            "element": "",
            "line": 1,
        }
    ]


def test_the_api_refuses_a_table_over_the_size_limit(pack, api, owner, settings):
    settings.WORKFLOWS = {**settings.WORKFLOWS, "MAX_BPMN_BYTES": len(DIAGRAM) + 10}
    response = deploy_by_api(api(owner), ("big.dmn", b" " * (len(DIAGRAM) + 11)))
    assert response.status_code == 400
    limit = len(DIAGRAM) + 10
    assert response.json()["errors"][0]["message"] == (
        f"big.dmn: the file is {limit + 1:,} bytes; the limit is {limit:,} bytes"
    )
