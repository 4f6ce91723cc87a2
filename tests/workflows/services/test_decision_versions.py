"""Decision tables are versioned with the diagram that uses them: a changed table is a new
version, and a case evaluates the table of the version it started on (and replays on it)."""

from __future__ import annotations

import pytest

from workflows.exceptions import DeploymentRefused, Problem
from workflows.models import AuditEvent, AuditKind, ProcessDefinition
from workflows.services.decisions import content_digest, table_digest, uploaded_decisions
from workflows.services.definitions import definition_check, definition_deploy
from workflows.services.instances import instance_start
from workflows.services.replay import instance_replay
from workflows.services.runtimes import _runtime
from workflows.services.tasks import task_claim, task_complete

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
    xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="x">
  <bpmn:process id="grading" name="分级" isExecutable="true">
    <bpmn:startEvent id="start" name="申请"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
    <bpmn:userTask id="review" name="审核" camunda:candidateGroups="county_staff">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="grade" />
    <bpmn:businessRuleTask id="grade" name="定级" camunda:decisionRef="subsidy_band">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:businessRuleTask>
    <bpmn:sequenceFlow id="f3" sourceRef="grade" targetRef="end" />
    <bpmn:endEvent id="end" name="完成"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="di">
    <bpmndi:BPMNPlane id="plane" bpmnElement="grading">
      <bpmndi:BPMNShape id="start_di" bpmnElement="start">
        <dc:Bounds x="100" y="100" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="review_di" bpmnElement="review">
        <dc:Bounds x="180" y="78" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="grade_di" bpmnElement="grade">
        <dc:Bounds x="330" y="78" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="end_di" bpmnElement="end">
        <dc:Bounds x="480" y="100" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="f1_di" bpmnElement="f1">
        <di:waypoint x="136" y="118" /><di:waypoint x="180" y="118" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="f2_di" bpmnElement="f2">
        <di:waypoint x="280" y="118" /><di:waypoint x="330" y="118" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="f3_di" bpmnElement="f3">
        <di:waypoint x="430" y="118" /><di:waypoint x="480" y="118" /></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
""".encode()

TABLE = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="t" name="t"
    namespace="x">
  <decision id="{decision}" name="补贴档次">
    <decisionTable id="table" hitPolicy="{policy}">
      <input id="in_amount" label="金额">
        <inputExpression id="e1"><text>amount</text></inputExpression>
      </input>
      <output id="out_band" name="band" />
      <rule id="low"><inputEntry id="r1"><text>&lt; {limit}</text></inputEntry>
        <outputEntry id="o1"><text>"low"</text></outputEntry></rule>
      <rule id="high"><inputEntry id="r2"><text>-</text></inputEntry>
        <outputEntry id="o2"><text>"high"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""


def table(limit: int = 1000, policy: str = "UNIQUE", decision: str = "subsidy_band") -> str:
    return TABLE.format(limit=limit, policy=policy, decision=decision)


@pytest.fixture
def tables(settings, tmp_path):
    directory = tmp_path / "dmn"
    directory.mkdir()
    settings.WORKFLOWS = {**settings.WORKFLOWS, "DMN_DIRS": [directory]}
    (directory / "band.dmn").write_text(table(), encoding="utf-8")
    return directory


def finish_review(instance, user):
    task = instance.human_tasks.get(state="open")
    task_claim(task_id=task.pk, user=user)
    task_complete(task_id=task.pk, user=user, data={})
    instance.refresh_from_db()
    return instance


def test_a_changed_table_is_a_new_version_and_a_running_case_keeps_its_own(
    tables, owner, county_clerk
):
    v1 = definition_deploy(content=DIAGRAM, user=owner, decisions={"subsidy_band": table()})
    assert v1.created and v1.definition.decisions == {"subsidy_band": table()}
    assert v1.definition.sha256 == content_digest(DIAGRAM, {"subsidy_band": table()})
    again = definition_deploy(content=DIAGRAM, user=owner, decisions={"subsidy_band": table()})
    assert not again.created and again.definition == v1.definition
    running = instance_start(process_key="grading", user=county_clerk, variables={"amount": 1500})

    # The same diagram with a changed table (limit 1000 → 2000): version 2.
    (tables / "band.dmn").write_text(table(limit=9999), encoding="utf-8")  # the file, too
    v2 = definition_deploy(content=DIAGRAM, user=owner, decisions={"subsidy_band": table(2000)})
    assert v2.created and v2.definition.version == 2
    assert v2.definition.decisions == {"subsidy_band": table(2000)}
    deployed = AuditEvent.objects.filter(kind=AuditKind.DEFINITION_DEPLOYED).last()
    assert deployed.payload["decisions"] == {"subsidy_band": table_digest(table(2000))}

    _runtime.cache_clear()  # as after a restart: nothing remembered from before the change
    finish_review(running, county_clerk)
    assert running.definition == v1.definition
    assert running.variables["band"] == "high"  # v1's table: 1500 is not below 1000
    newer = instance_start(process_key="grading", user=county_clerk, variables={"amount": 1500})
    assert finish_review(newer, county_clerk).variables["band"] == "low"  # v2's: below 2000

    _runtime.cache_clear()
    report = instance_replay(instance=running)
    assert report.matches, report


def test_without_a_given_table_the_previous_version_is_kept_then_the_file(tables, owner):
    definition_deploy(content=DIAGRAM, user=owner, decisions={"subsidy_band": table(3000)})
    (tables / "band.dmn").write_text(table(limit=5), encoding="utf-8")
    # The API without a .dmn file: the previous version's table, not the changed file.
    same = definition_deploy(content=DIAGRAM, user=owner)
    assert not same.created and same.definition.decisions == {"subsidy_band": table(3000)}
    ProcessDefinition.objects.all().update(decisions={})  # a version from before freezing
    fresh = definition_deploy(content=DIAGRAM, user=owner)
    assert fresh.created and fresh.definition.decisions == {"subsidy_band": table(5)}


def test_a_version_deployed_before_tables_were_frozen_reads_the_files(tables, owner, county_clerk):
    definition_deploy(content=DIAGRAM, user=owner)
    ProcessDefinition.objects.all().update(decisions={})
    _runtime.cache_clear()
    (tables / "band.dmn").write_text(table(limit=2000), encoding="utf-8")
    instance = instance_start(process_key="grading", user=county_clerk, variables={"amount": 1500})
    assert finish_review(instance, county_clerk).variables["band"] == "low"


def refused_with(tables_given: dict[str, str]) -> list[Problem]:
    with pytest.raises(DeploymentRefused) as refused:
        definition_deploy(content=DIAGRAM, user=None, decisions=tables_given)
    return refused.value.problems


def test_an_unsupported_hit_policy_is_refused_at_its_table_and_line(tables):
    [problem] = refused_with({"subsidy_band": table(policy="FIRST")})
    assert problem == Problem(
        "Decision table “subsidy_band”, line 5: hit policy FIRST is not supported: use UNIQUE "
        "or COLLECT (UNIQUE takes the first rule that matches, COLLECT lists every match)",
        "table",
        5,
        decision="subsidy_band",
    )
    assert problem.as_dict()["decision"] == "subsidy_band"
    aggregated = table(policy="COLLECT").replace(
        'hitPolicy="COLLECT"', 'hitPolicy="COLLECT" aggregation="SUM"'
    )
    [problem] = refused_with({"subsidy_band": aggregated})
    assert problem.message == (
        "Decision table “subsidy_band”, line 5: COLLECT with aggregation SUM is not supported: "
        "collect without aggregation (each output becomes a list)"
    )


@pytest.mark.parametrize(
    ("xml", "message", "element", "line"),
    [
        (
            table().replace('<outputEntry id="o1"><text>"low"</text></outputEntry>', ""),
            "the rule has 0 output entries; the table has 1",
            "low",
            10,
        ),
        (
            table(decision="subsidy_level"),
            "the file holds decision 'subsidy_level', not 'subsidy_band': keep the decision id",
            "subsidy_level",
            4,
        ),
        (
            table().replace('<output id="out_band" name="band" />', ""),
            "the decision table has no output column",
            "table",
            5,
        ),
        (
            table().replace("<text>amount</text>", "<text>amount + open</text>"),
            "input expression: the name 'open' is not allowed",
            "in_amount",
            6,
        ),
        (
            table().replace('<text>"high"</text>', '<text>"high</text>'),
            "output entry: syntax error: unterminated string literal (detected at line 1)",
            "o2",
            13,
        ),
        (
            table().replace(
                '<output id="out_band" name="band" />',
                '<output id="out_band" name="band" /><annotation name="note" />',
            ),
            "<annotation> cannot be in a decision table here: only inputs, outputs and rules "
            "(remove the annotation column or description)",
            "table",
            9,
        ),
        (
            table().replace('<rule id="low">', "<rule>"),
            "the <rule> has no id (dmn-js gives every column, rule and cell one): save the "
            "table again from the modeler",
            "table",
            10,
        ),
        (
            "<definitions>not dmn",
            "the file is not well-formed XML: Premature end of data in tag definitions line 1, "
            "line 1, column 21",
            "",
            1,
        ),
        (
            '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            "<definitions/>",
            "the file contains a <!DOCTYPE> or <!ENTITY> declaration, which diagrams may not "
            "contain (it can hide an entity bomb or read files on the server); export the "
            "diagram again from the modeler",
            "",
            None,
        ),
        (
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"/>',
            "the file is not a DMN decision table: its root element is <definitions>, "
            "not DMN <definitions>",
            "",
            1,
        ),
        (
            table().replace("</decision>", '</decision><decision id="other" />'),
            "the file holds 2 decisions; put exactly one per file",
            "",
            3,
        ),
        (
            table()
            .replace('<decisionTable id="table" hitPolicy="UNIQUE">', "<literalExpression>")
            .replace("</decisionTable>", "</literalExpression>"),
            "the decision is not a decision table (literal expressions and decision "
            "requirements are not run): give it one decision table",
            "subsidy_band",
            4,
        ),
    ],
)
def test_a_bad_table_is_refused_with_its_element_and_line(tables, xml, message, element, line):
    problems = refused_with({"subsidy_band": xml})
    assert [(p.message, p.element, p.line, p.decision) for p in problems][:1] == [
        (
            f"Decision table “subsidy_band”, line {line or '-'}: {message}",
            element,
            line,
            "subsidy_band",
        )
    ]
    if "amount + open" in xml:  # the input entry tests the input expression, so it is named too
        assert [p.element for p in problems] == ["in_amount", "r1"]
    else:
        assert len(problems) == 1


def test_a_table_too_large_is_refused(tables, settings):
    limit = len(DIAGRAM) + 10  # the diagram fits, the table does not
    settings.WORKFLOWS = {**settings.WORKFLOWS, "MAX_BPMN_BYTES": limit}
    big = table() + " " * limit
    [problem] = refused_with({"subsidy_band": big})
    assert problem.message == (
        f"Decision table “subsidy_band”, line -: the file is {len(big.encode()):,} bytes; the "
        f"limit is {limit:,} bytes"
    )


def test_the_check_of_a_broken_table_goes_on_with_the_diagram(tables):
    broken = DIAGRAM.replace(
        b'camunda:candidateGroups="county_staff"', b'camunda:candidateGroups="nobody"'
    )
    _, problems, _ = definition_check(
        content=broken, decisions={"subsidy_band": table(policy="ANY")}
    )
    assert [p.element for p in problems] == ["review", "table"]


def test_what_the_engine_still_refuses_is_reported_not_raised(tables, monkeypatch):
    from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
    from SpiffWorkflow.dmn.parser.DMNParser import DMNParser

    def refuse(self):
        raise ValidationException("Malformed rule", node=self.xpath(".//dmn:rule")[0])

    monkeypatch.setattr(DMNParser, "parse", refuse)
    [problem] = refused_with({"subsidy_band": table()})
    assert (problem.message, problem.element, problem.line) == (
        "Decision table “subsidy_band”, line 10: Malformed rule",
        "low",
        10,
    )

    def crash(self):
        raise TypeError("unexpected")

    monkeypatch.setattr(DMNParser, "parse", crash)
    [problem] = refused_with({"subsidy_band": table()})
    assert problem.message == (
        "Decision table “subsidy_band”, line -: the decision table cannot be run: TypeError: "
        "unexpected"
    )


def test_uploaded_files_are_named_by_their_decision():
    assert uploaded_decisions([("a.dmn", table().encode())]) == {"subsidy_band": table()}
    empty = b'<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="e" />'
    with pytest.raises(DeploymentRefused) as refused:
        uploaded_decisions(
            [
                ("a.dmn", table().encode()),
                ("b.dmn", table().encode()),
                ("c.dmn", b"<x"),
                ("d.dmn", empty),
            ]
        )
    assert [p.message for p in refused.value.problems] == [
        "b.dmn: the decision “subsidy_band” is uploaded twice.",
        "c.dmn: the file is not well-formed XML: Couldn't find end of Start Tag x line 1, line 1, "
        "column 3",
        "d.dmn holds 0 decisions: put exactly one per file.",
    ]
