"""Business rule tasks run DMN decision tables (from ``DMN_DIRS`` when none is given, frozen
with the version: tests/workflows/services/test_decision_versions.py) with SpiffWorkflow's DMN
engine; deploying checks that each names a table there and that the table's expressions pass
the sandbox. Monthly timer cycles keep to their day of the month."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone

from workflows.engine.timeexpr import next_cycle_start, timer_expression
from workflows.exceptions import DeploymentRefused
from workflows.models import AuditEvent, AuditKind, InstanceState
from workflows.services.definitions import definition_deploy
from workflows.services.instances import instance_start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="x">
  <bpmn:process id="grading" name="分级" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="grade" />
    <bpmn:businessRuleTask id="grade" name="定级" {ref} />
    <bpmn:sequenceFlow id="f2" sourceRef="grade" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
"""

TABLE = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="t" name="t"
    namespace="x">
  <decision id="{decision}" name="补贴档次">
    <decisionTable id="table" hitPolicy="UNIQUE">
      <input id="in_amount" label="金额">
        <inputExpression id="e1"><text>amount</text></inputExpression>
      </input>
      <output id="out_band" name="band" />
      <rule id="low"><inputEntry id="r1"><text>&lt; 1000</text></inputEntry>
        <outputEntry id="o1"><text>{low}</text></outputEntry></rule>
      <rule id="high"><inputEntry id="r2"><text>-</text></inputEntry>
        <outputEntry id="o2"><text>"high"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""


@pytest.fixture
def tables(settings, tmp_path):
    directory = tmp_path / "dmn"
    directory.mkdir()
    settings.WORKFLOWS = {**settings.WORKFLOWS, "DMN_DIRS": [directory]}
    return directory


def diagram(ref: str = 'camunda:decisionRef="subsidy_band"') -> bytes:
    return DIAGRAM.format(ref=ref).encode()


def table(decision: str = "subsidy_band", low: str = '"low"') -> str:
    return TABLE.format(decision=decision, low=low)


def test_a_business_rule_task_runs_its_decision_table(tables, owner, county_clerk):
    (tables / "band.dmn").write_text(table(), encoding="utf-8")
    definition_deploy(content=diagram(), user=owner)
    for amount, band in ((500, "low"), (4000, "high")):
        instance = instance_start(
            process_key="grading", user=county_clerk, variables={"amount": amount}
        )
        assert instance.state == InstanceState.COMPLETED
        assert instance.variables["band"] == band
    deployed = AuditEvent.objects.get(kind=AuditKind.DEFINITION_DEPLOYED)
    assert deployed.payload["decisions"]["subsidy_band"] == definition_sha_of(tables / "band.dmn")
    assert deployed.payload["sha256"] != definition_sha_of_bytes(diagram())  # tables included


def definition_sha_of_bytes(content: bytes) -> str:
    import hashlib

    return hashlib.sha256(content).hexdigest()


def definition_sha_of(path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_decision_that_is_not_there_is_refused_with_the_tables_that_are(tables, owner):
    (tables / "band.dmn").write_text(table(), encoding="utf-8")
    with pytest.raises(DeploymentRefused) as refused:
        definition_deploy(content=diagram('camunda:decisionRef="subsidy_level"'), user=owner)
    [problem] = refused.value.problems
    assert problem.element == "grade"
    assert problem.message == (
        "This business rule task names the decision “subsidy_level”, which is not a decision "
        "table (decision tables: subsidy_band)."
    )


def test_a_business_rule_task_without_a_decision_is_refused(tables, owner):
    with pytest.raises(DeploymentRefused) as refused:
        definition_deploy(content=diagram(""), user=owner)
    [problem] = refused.value.problems
    assert "names no decision" in problem.message and problem.element == "grade"


def test_an_unsafe_or_broken_decision_table_is_refused(tables, owner):
    (tables / "band.dmn").write_text(table(low="__import__('os')"), encoding="utf-8")
    (tables / "broken.dmn").write_text("<definitions>not dmn", encoding="utf-8")
    with pytest.raises(DeploymentRefused) as refused:
        definition_deploy(content=diagram(), user=owner)
    [problem] = refused.value.problems
    assert problem.message == (
        "Decision table “subsidy_band”, line 11: output entry: the name '__import__' is not allowed"
    )
    assert (problem.element, problem.line, problem.decision) == ("o1", 11, "subsidy_band")
    with pytest.raises(DeploymentRefused) as refused:
        definition_deploy(content=diagram('camunda:decisionRef="other"'), user=owner)
    assert "broken.dmn cannot be used" in refused.value.problems[0].message


def test_a_monthly_cycle_stays_on_its_day_of_the_month():
    tz = timezone.get_current_timezone()
    cycle = timer_expression("R/2025-01-01T02:00:00+08:00/P1M")
    moments, after = [], datetime(2025, 1, 15, tzinfo=tz)
    for _ in range(4):
        after = next_cycle_start(cycle, after=after)
        moments.append(timezone.localtime(after).strftime("%m-%d %H:%M"))
    assert moments == ["02-01 02:00", "03-01 02:00", "04-01 02:00", "05-01 02:00"]
    yearly = next_cycle_start(
        timer_expression("R/2024-01-02T08:00:00+08:00/P1Y"), after=datetime(2027, 6, 1, tzinfo=tz)
    )
    assert timezone.localtime(yearly).strftime("%Y-%m-%d %H:%M") == "2028-01-02 08:00"
