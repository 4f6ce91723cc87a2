"""The modeler shows a procedure's decision tables, saves and checks them with the draft, deploys
a changed table as a new version and shows what changed against the previous version."""

import json

import pytest

from tests.workflows.services.test_decision_versions import DIAGRAM, table
from workflows.models import ProcessDefinition, ProcessDraft
from workflows.services.definitions import definition_deploy

pytestmark = pytest.mark.django_db


URL = "/modeler/grading/"
XML = DIAGRAM.decode()


@pytest.fixture
def deployed(owner, settings, tmp_path):
    directory = tmp_path / "dmn"
    directory.mkdir()
    (directory / "band.dmn").write_text(table(), encoding="utf-8")
    settings.WORKFLOWS = {**settings.WORKFLOWS, "DMN_DIRS": [directory]}
    return definition_deploy(content=DIAGRAM, user=owner).definition


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def changed_table() -> str:
    # Rule "low" gets a new limit, rule "high" goes, a rule "top" comes.
    return (
        table(2000)
        .replace('<rule id="high">', '<rule id="top">')
        .replace('"high"', '"top"')
        .replace('hitPolicy="UNIQUE"', 'hitPolicy="COLLECT"')
    )


def test_the_modeler_page_lists_the_tables_with_their_xml(client, owner, deployed):
    client.force_login(owner)
    page = client.get(URL).content.decode()
    assert (
        '<tr data-decision="subsidy_band"><td><code>subsidy_band</code></td><td>补贴档次</td>'
        in page
    )
    assert "<td>UNIQUE</td><td>2</td>" in page
    assert 'data-edit-decision="subsidy_band"' in page
    assert "编辑决策表" in page  # translated
    assert '<script id="fz-decisions" type="application/json">' in page
    start = page.index('<script id="fz-decisions" type="application/json">')
    blob = page[page.index(">", start) + 1 : page.index("</script>", start)]
    assert json.loads(blob) == {"subsidy_band": table()}


def test_a_changed_table_is_saved_checked_and_deployed_as_a_new_version(client, owner, deployed):
    client.force_login(owner)
    body = {"bpmn_xml": XML, "revision": 1, "decisions": {"subsidy_band": changed_table()}}
    saved = post(client, f"{URL}draft.json", body)
    assert saved.status_code == 200 and saved.json()["decisions"] == body["decisions"]
    check = post(client, f"{URL}check.json", {"bpmn_xml": XML}).json()
    assert check["ok"], check
    [change] = check["decision_changes"]
    assert change == {
        "decision": "subsidy_band",
        "name": "补贴档次",
        "status": "changed",
        "hit_policy": ["UNIQUE", "COLLECT"],
        "columns": None,
        "rules_added": [{"id": "top", "row": 2, "cells": ["-", '"top"']}],
        "rules_removed": [{"id": "high", "row": 2, "cells": ["-", '"high"']}],
        "rules_changed": [
            {"id": "low", "row": 1, "before": ["< 1000", '"low"'], "after": ["< 2000", '"low"']}
        ],
    }
    response = post(client, f"{URL}deploy.json", {"revision": 2, "comment": "限额调整"})
    assert (response.status_code, response.json()["version"]) == (201, 2)
    v2 = ProcessDefinition.objects.get(key="grading", version=2)
    assert v2.bpmn_xml == XML and v2.decisions == {"subsidy_band": changed_table()}

    diff = client.get(f"{URL}diff/?a=1&b=2").content.decode()
    assert '<li data-decision="subsidy_band" data-status="changed">' in diff
    assert "UNIQUE → COLLECT" in diff
    assert "(行号 1): &lt; 1000 | &quot;low&quot; → &lt; 2000 | &quot;low&quot;" in diff
    assert 'class="rule-added">新增规则 (行号 2): - | &quot;top&quot;' in diff
    opened = client.get(f"{URL}?version=1").content.decode()
    assert "<td>UNIQUE</td><td>2</td>" in opened  # version 1's table


def test_a_bad_table_is_reported_by_the_check_with_its_element_and_line(client, owner, deployed):
    client.force_login(owner)
    bad = {"subsidy_band": table(policy="RULE ORDER")}
    check = post(client, f"{URL}check.json", {"bpmn_xml": XML, "decisions": bad}).json()
    assert not check["ok"]
    assert check["problems"] == [
        {
            "message": "决策表“subsidy_band”第 5 行：hit policy RULE ORDER is not "
            "supported: use UNIQUE or COLLECT (UNIQUE takes the first rule that matches, "
            "COLLECT lists every match)",
            "element": "table",
            "line": 5,
            "decision": "subsidy_band",
        }
    ]
    unreadable = {"subsidy_band": "<definitions"}
    check = post(client, f"{URL}check.json", {"bpmn_xml": XML, "decisions": unreadable}).json()
    assert check["problems"][0] == {
        "message": "决策表“subsidy_band”：不是可读取的决策表（第 1 行）："
        "文件不是格式正确的 XML：Couldn't find end of Start Tag definitions line 1, "
        "line 1, column 13",
        "element": "",
        "line": None,
        "decision": "subsidy_band",
    }


@pytest.mark.parametrize(
    ("decisions", "error", "fields"),
    [
        ("<definitions/>", "decisions 必须是“决策标识 → DMN XML”的对象。", None),
        (
            {f"d{i}": table() for i in range(51)},
            "一个草稿最多包含 50 个决策表。",
            None,
        ),
        (
            {"subsidy band": table()},
            "草稿的决策表未保存：decisions.subsidy band: "
            "决策标识只能使用字母、数字和 _ . -（最多 200 个字符）。",
            {"decisions.subsidy band": ["决策标识只能使用字母、数字和 _ . -（最多 200 个字符）。"]},
        ),
        (
            {"subsidy_band": 42},
            "草稿的决策表未保存：decisions.subsidy_band: 请以 DMN XML 文本提交决策表。",
            {"decisions.subsidy_band": ["请以 DMN XML 文本提交决策表。"]},
        ),
        (
            {"subsidy_band": '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'},
            "草稿的决策表未保存：decisions.subsidy_band: 不是可读取的决策表："
            "文件包含 <!DOCTYPE> 或 <!ENTITY> 声明，流程图中不允许出现"
            "（它可能隐藏实体炸弹或读取服务器上的文件）；请从建模器重新导出流程图",
            None,
        ),
    ],
)
def test_a_save_with_bad_tables_is_refused_and_keeps_the_draft(
    client, owner, deployed, decisions, error, fields
):
    client.force_login(owner)
    response = post(
        client, f"{URL}draft.json", {"bpmn_xml": XML, "revision": 1, "decisions": decisions}
    )
    assert response.status_code == 400
    assert response.json()["error"] == error
    if fields is not None:
        assert response.json()["fields"] == fields
    assert client.get(f"{URL}draft.json").json()["decisions"] == {"subsidy_band": table()}
    assert ProcessDraft.objects.get().revision == 1
