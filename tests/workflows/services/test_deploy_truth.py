"""Deploy tells the truth (issue 18, items 1, 2 and 4): a task nobody owns passes through or is
refused; inputs that crashed deploy or start are refused with their element; every refusal
reads in Chinese, in the owner's words, with the element and its line."""

from __future__ import annotations

import pytest

from tests.conftest import BPMN, TOWNSHIP_A
from tests.workflows.services.test_deploy_rules import PLAIN, diagram, post
from workflows.models import HumanTask, InstanceState, ProcessInstance, Subscription
from workflows.services.definitions import definition_deploy
from workflows.services.instances import instance_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def refused(api, owner):
    def deploy(content: bytes) -> list[tuple[str, str, int | None]]:
        response = post(api(owner), content)
        assert response.status_code == 400, response.content
        return [(e["message"], e["element"], e["line"]) for e in response.json()["errors"]]

    return deploy


@pytest.fixture
def start(owner, make_user):
    starter = make_user("starter", superuser=True)

    def deploy_and_start(content: bytes) -> ProcessInstance:
        definition = definition_deploy(content=content, user=owner).definition
        return instance_start(process_key=definition.key, user=starter, org_unit=TOWNSHIP_A)

    return deploy_and_start


WORK = '<bpmn:userTask id="work" name="办理" camunda:candidateGroups="county_staff" />'


# --- 1. No task without an owner ---------------------------------------------------------------


@pytest.mark.parametrize("tag", ["task", "manualTask"])
def test_a_plain_or_manual_task_that_names_nobody_passes_through(start, tag):
    """BPMN leaves an undefined task to the modeler, and Camunda passes it (and a manual task)
    through; it used to become a human task with no role that nobody could claim."""
    instance = start(diagram(PLAIN.replace(WORK, f'<bpmn:{tag} id="work" name="登记" />')))
    assert instance.state == InstanceState.COMPLETED
    assert not HumanTask.objects.filter(instance=instance).exists()


@pytest.mark.parametrize("tag", ["task", "manualTask"])
def test_a_plain_or_manual_task_the_diagram_gives_to_a_role_is_work_for_that_role(start, tag):
    task = f'<bpmn:{tag} id="work" name="现场核实" camunda:candidateGroups="township_staff" />'
    instance = start(diagram(PLAIN.replace(WORK, task)))
    [human] = HumanTask.objects.filter(instance=instance)
    assert (human.element_id, human.candidate_roles) == ("work", ["township_staff"])


LANES = """
  <bpmn:laneSet id="lanes">
    <bpmn:lane id="{lane}" name="{lane_name}">
      <bpmn:flowNodeRef>work</bpmn:flowNodeRef>
    </bpmn:lane>
  </bpmn:laneSet>
"""


def test_a_manual_task_in_a_lane_is_work_for_the_lanes_role(start):
    lanes = LANES.format(lane="township_staff", lane_name="乡镇残联工作人员")
    instance = start(diagram(lanes + PLAIN.replace(WORK, '<bpmn:manualTask id="work" />')))
    [human] = HumanTask.objects.filter(instance=instance)
    assert human.candidate_roles == ["township_staff"]


def test_a_task_in_a_lane_nobody_has_is_refused_in_chinese(refused):
    lanes = LANES.format(lane="street", lane_name="街道办")
    [(message, element, line)] = refused(
        diagram(lanes + PLAIN.replace(WORK, '<bpmn:task id="work" name="登记" />'))
    )
    assert message.startswith("泳道“街道办”对应不到任何角色：请按角色命名泳道（")
    assert (element, line) == ("work", 12)


def test_a_user_task_nobody_can_do_is_refused_in_chinese(refused):
    assert refused((BPMN / "bad_task_for_nobody.bpmn").read_bytes()) == [
        (
            "没有人能办理这个任务：请把它放进泳道，或指定候选组、候选人或办理人",
            "check",
            6,
        )
    ]


# --- 2. No 500s --------------------------------------------------------------------------------


CALLS = """
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call_a" />
    <bpmn:callActivity id="call_a" name="调用甲" calledElement="helper" />
    <bpmn:sequenceFlow id="f2" sourceRef="call_a" targetRef="call_b" />
    <bpmn:callActivity id="call_b" name="调用乙" />
    <bpmn:sequenceFlow id="f3" sourceRef="call_b" targetRef="end" />
    <bpmn:endEvent id="end" />
"""
HELPER = """  <bpmn:process id="helper" name="辅助" isExecutable="true">
    <bpmn:startEvent id="h_start" />
    <bpmn:sequenceFlow id="h1" sourceRef="h_start" targetRef="h_end" />
    <bpmn:endEvent id="h_end" />
  </bpmn:process>
"""


def test_a_call_activity_that_names_no_process_beside_one_that_does_is_refused(refused):
    """The deploy check used to sort the called processes, None among them: a 500."""
    assert refused(diagram(CALLS, HELPER)) == [
        (
            "调用活动“调用乙”（call_b）没有指定要调用的流程：请设置被调用的流程（calledElement）",
            "call_b",
            8,
        )
    ]


def test_a_boundary_signal_with_no_signal_is_refused_not_a_crash_at_start(refused, start):
    boundary = (
        '<bpmn:boundaryEvent id="stop" name="撤回" attachedToRef="work">'
        "<bpmn:signalEventDefinition /></bpmn:boundaryEvent>\n"
        '<bpmn:sequenceFlow id="f3" sourceRef="stop" targetRef="end" />\n'
    )
    # Named after the event, as SpiffWorkflow does, throw and catch still meet: it deploys.
    # Without a name it cannot be caught by anything: refused.
    unnamed = diagram(PLAIN + boundary.replace(' name="撤回"', ""))
    assert refused(unnamed) == [
        ("边界事件（stop）没有指定信号：请在建模器中选择（或新建）一个", "stop", 9)
    ]
    instance = start(diagram(PLAIN + boundary))
    assert [(s.kind, s.name) for s in Subscription.objects.filter(instance=instance)] == [
        (Subscription.KIND_SIGNAL, "撤回")
    ]


def test_a_start_whose_first_task_cannot_be_assigned_is_refused_not_a_server_error(
    api, owner, make_user
):
    task = '<bpmn:userTask id="work" name="办理" camunda:assignee="${receiver}" />'
    definition_deploy(content=diagram(PLAIN.replace(WORK, task)), user=owner)
    response = api(make_user("starter", superuser=True)).post(
        "/api/process-instances/",
        {"process_key": "p", "variables": {}, "org_unit": TOWNSHIP_A},
        format="json",
    )
    assert response.status_code == 400
    assert "work" in response.json()["detail"]
    assert not ProcessInstance.objects.exists()


# --- 4. Messages a process owner can act on ----------------------------------------------------


def test_the_sandbox_and_the_host_speak_chinese(refused):
    assert refused((BPMN / "bad_script_import.bpmn").read_bytes()) == [
        ("脚本：不允许导入模块（import）", "compute", 8)
    ]
    assert refused((BPMN / "bad_condition_syntax.bpmn").read_bytes()) == [
        ("条件：语法错误：invalid syntax", "f_yes", 8)
    ]
    [(message, element, line)] = refused((BPMN / "bad_candidate_group.bpmn").read_bytes())
    assert message.startswith("候选组“mayor”不是角色（角色：") and (element, line) == ("check", 6)


def test_an_exclusive_gateway_flow_without_a_condition_is_told_as_drawn(refused):
    """SpiffWorkflow: 'Non-default exclusive outgoing sequence flow without condition'."""
    body = PLAIN.replace('targetRef="end" />', 'targetRef="decide" />') + (
        '<bpmn:exclusiveGateway id="decide" name="是否通过" />\n'
        '<bpmn:sequenceFlow id="yes" name="通过" sourceRef="decide" targetRef="end" />\n'
        '<bpmn:sequenceFlow id="no" sourceRef="decide" targetRef="end_no" />\n'
        '<bpmn:endEvent id="end_no" />\n'
    )
    [(message, element, line)] = refused(diagram(body))
    assert element in ("yes", "no") and line in (10, 11)
    assert message.endswith("从排他网关出发却没有条件：请填写条件，或把它设为默认流")
    assert message.startswith("顺序流")


def test_a_whole_file_problem_names_the_process(refused):
    not_executable = diagram(PLAIN).replace(b'isExecutable="true"', b'isExecutable="false"')
    assert refused(not_executable) == [
        ('流程不可执行：请在建模器中勾选流程的“可执行”（isExecutable="true"）', "p", 3)
    ]


def test_english_when_english_is_chosen(api, owner, settings):
    client = api(owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    no_end = PLAIN.replace('<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />', "")
    response = post(client, diagram(no_end.replace('<bpmn:endEvent id="end" />', "")))
    assert response.status_code == 400
    assert response.json()["detail"].startswith("the diagram was not deployed: ")
    assert (
        "the path through user task “办理” (work) ends without an end event: connect it to the "
        "next step or to an end event"
    ) in [e["message"] for e in response.json()["errors"]]


# --- 3. Every door runs the rules ---------------------------------------------------------------


def _lanes_with_a_duplicate_flow() -> str:
    """The fixture's two-level review with its approval flow drawn twice (a rule's error)."""
    lanes = (BPMN / "lanes_and_gateway.bpmn").read_text()
    flow = next(
        line.strip()
        for line in lanes.splitlines()
        if "<bpmn:sequenceFlow" in line and 'targetRef="approved_end"' in line
    )
    again = flow.replace('id="', 'id="again_', 1)
    if not flow.endswith("/>"):  # a flow with a condition: repeat it whole
        start = lanes.index(flow)
        end = lanes.index("</bpmn:sequenceFlow>", start) + len("</bpmn:sequenceFlow>")
        again = lanes[start:end].replace('id="', 'id="again_', 1)
        return lanes[:end] + "\n" + again + lanes[end:]
    return lanes.replace(flow, flow + "\n" + again)


def test_the_modeler_check_and_deploy_processes_run_the_rules(
    client, owner, tmp_path, settings, capsys
):
    from django.core.management import CommandError, call_command

    bad = _lanes_with_a_duplicate_flow()
    definition_deploy(content=(BPMN / "lanes_and_gateway.bpmn").read_bytes(), user=owner)
    client.force_login(owner)
    check = client.post(
        "/modeler/lanes_and_gateway/check.json",
        data={"bpmn_xml": bad},
        content_type="application/json",
    ).json()
    assert not check["ok"]
    assert any("目标会执行两次" in p["message"] for p in check["problems"])
    unnamed = (BPMN / "lanes_and_gateway.bpmn").read_text().replace('name="县级复核"', "")
    check = client.post(
        "/modeler/lanes_and_gateway/check.json",
        data={"bpmn_xml": unnamed},
        content_type="application/json",
    ).json()
    assert check["ok"] and [w["element"] for w in check["warnings"]] == ["county_review"]
    (tmp_path / "lanes.bpmn").write_text(bad, encoding="utf-8")
    settings.WORKFLOWS = {**settings.WORKFLOWS, "PROCESS_DIRS": [tmp_path]}
    with pytest.raises(CommandError):
        call_command("deploy_processes", "--over-modeler")
    assert "目标会执行两次" in capsys.readouterr().err


def test_a_timer_literal_that_is_no_iso_date_is_refused_in_chinese(refused):
    body = PLAIN.replace('targetRef="end" />', 'targetRef="wait" />') + (
        '<bpmn:intermediateCatchEvent id="wait" name="等待"><bpmn:timerEventDefinition>'
        "<bpmn:timeCycle>R/2025-01-02T08:00</bpmn:timeCycle></bpmn:timerEventDefinition>"
        "</bpmn:intermediateCatchEvent>\n"
        '<bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="end" />\n'
    )
    assert refused(diagram(body)) == [
        (
            "定时器周期：周期“R/2025-01-02T08:00”没有间隔：请写成例如 R/2025-01-02T08:00/P1Y",
            "wait",
            9,
        )
    ]
