"""The structural rules (workflows/engine/rules.py), each with a wrong and a right diagram,
deployed through the API in its default language: every refusal reads in Chinese, names the
element as the owner drew it and its line; the right diagram deploys."""

from __future__ import annotations

import textwrap

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from workflows.models import ProcessDefinition

pytestmark = pytest.mark.django_db

URL = "/api/process-definitions/"
HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" '
    'targetNamespace="http://fuzhu.example/bpmn">\n'
    '  <bpmn:process id="p" name="测试" isExecutable="true">\n'
)
# Lines 4 to 8: start → 办理 (work) → end.
PLAIN = """
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />
    <bpmn:userTask id="work" name="办理" camunda:candidateGroups="county_staff" />
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />
    <bpmn:endEvent id="end" />
"""


def diagram(body: str, after: str = "") -> bytes:
    """A process ``p`` with ``body`` in it (its first line is line 4) and ``after`` it."""
    inner = textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
    return (HEAD + inner + "\n  </bpmn:process>\n" + after + "</bpmn:definitions>\n").encode()


def post(client, content: bytes):
    return client.post(URL, {"file": SimpleUploadedFile("d.bpmn", content)}, format="multipart")


@pytest.fixture
def refused(api, owner):
    def deploy(content: bytes) -> list[tuple[str, str, int | None]]:
        before = ProcessDefinition.objects.count()
        response = post(api(owner), content)
        assert response.status_code == 400, response.content
        assert response.json()["detail"].startswith("流程图未部署：")
        assert ProcessDefinition.objects.count() == before
        return [(e["message"], e["element"], e["line"]) for e in response.json()["errors"]]

    return deploy


@pytest.fixture
def accepted(api, owner):
    def deploy(content: bytes) -> list[tuple[str, str, int | None]]:
        response = post(api(owner), content)
        assert response.status_code == 201, response.content
        return [(w["message"], w["element"], w["line"]) for w in response.json()["warnings"]]

    return deploy


def test_the_plain_diagram_deploys_without_warnings(accepted):
    assert accepted(diagram(PLAIN)) == []


# --- start-event-required ---------------------------------------------------------------------


def test_a_process_without_a_start_event_is_refused(refused, accepted):
    wrong = diagram(
        PLAIN.replace('<bpmn:startEvent id="start" />', "").replace(
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />', ""
        )
    )
    assert refused(wrong) == [
        ("流程“测试”（p）没有开始事件：请画一个开始事件并连上", "p", 3),
        ("用户任务“办理”（work）没有进入的顺序流，永远不会执行：请连上它，或删除它", "work", 4),
    ]
    accepted(diagram(PLAIN))


SUB = """
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="handling" />
    <bpmn:subProcess id="handling" name="办理">
      {inside}
      <bpmn:userTask id="work" name="审核" camunda:candidateGroups="county_staff" />
      <bpmn:sequenceFlow id="s2" sourceRef="work" targetRef="sub_end" />
      <bpmn:endEvent id="sub_end" />
    </bpmn:subProcess>
    <bpmn:sequenceFlow id="f2" sourceRef="handling" targetRef="end" />
    <bpmn:endEvent id="end" />
"""
SUB_START = (
    '<bpmn:startEvent id="sub_start" />\n'
    '      <bpmn:sequenceFlow id="s1" sourceRef="sub_start" targetRef="work" />'
)


def test_a_sub_process_without_a_start_event_is_refused(refused, accepted):
    assert refused(diagram(SUB.format(inside=""))) == [
        ("子流程“办理”（handling）没有开始事件：请画一个开始事件并连上", "handling", 6),
        ("用户任务“审核”（work）没有进入的顺序流，永远不会执行：请连上它，或删除它", "work", 8),
    ]
    accepted(diagram(SUB.format(inside=SUB_START)))


def test_an_engine_error_is_told_as_what_the_owner_drew(refused):
    """A sub-process with a blank and a timer start passes the rules; SpiffWorkflow says
    'Exactly one start event is required in a SubWorkflow Task' — the owner reads this."""
    timer_start = (
        SUB_START + '\n      <bpmn:startEvent id="sub_timer"><bpmn:timerEventDefinition>'
        "<bpmn:timeDuration>P1D</bpmn:timeDuration></bpmn:timerEventDefinition>"
        "</bpmn:startEvent>\n"
        '      <bpmn:sequenceFlow id="s3" sourceRef="sub_timer" targetRef="work" />'
    )
    [(message, element, line)] = refused(diagram(SUB.format(inside=timer_start)))
    assert (message, element, line) == (
        "子流程“办理”（handling）必须恰好有一个开始事件；现在有 2 个",
        "handling",
        6,
    )
    assert "SubWorkflow" not in message and " at 0x" not in message


# --- single-blank-start-event -----------------------------------------------------------------


def test_several_blank_start_events_are_refused(refused, accepted):
    wrong = diagram(
        PLAIN
        + '<bpmn:startEvent id="start_again" />\n'
        + '<bpmn:sequenceFlow id="f3" sourceRef="start_again" targetRef="work" />\n'
    )
    assert (
        "流程“测试”（p）有多个空白开始事件（start, start_again）：每个都会启动一次办理；只保留一个",
        "start_again",
        9,
    ) in refused(wrong)
    accepted(diagram(PLAIN))


# --- no-implicit-start / no-implicit-end -------------------------------------------------------


def test_a_step_nothing_leads_to_is_refused(refused, accepted):
    wrong = diagram(
        PLAIN + '<bpmn:userTask id="orphan" name="补录" camunda:candidateGroups="county_staff" />\n'
        '<bpmn:sequenceFlow id="f3" sourceRef="orphan" targetRef="end" />\n'
    )
    assert refused(wrong) == [
        ("用户任务“补录”（orphan）没有进入的顺序流，永远不会执行：请连上它，或删除它", "orphan", 9),
    ]
    accepted(diagram(PLAIN))


def test_a_path_that_ends_without_an_end_event_is_refused(refused, accepted):
    wrong = diagram(
        PLAIN.replace('<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />', "").replace(
            '<bpmn:endEvent id="end" />', ""
        )
    )
    assert refused(wrong) == [
        (
            "经过用户任务“办理”（work）的路径没有结束事件就中断了：请把它连到下一步或结束事件",
            "work",
            6,
        ),
    ]
    accepted(diagram(PLAIN))


def test_a_flow_into_a_start_or_out_of_an_end_event_is_refused(refused, accepted):
    wrong = diagram(PLAIN + '<bpmn:sequenceFlow id="f3" sourceRef="end" targetRef="start" />\n')
    problems = refused(wrong)
    assert (
        "开始事件（start）有进入的顺序流：顺序流不能连回开始事件或边界事件；请把它连到后面的步骤",
        "start",
        4,
    ) in problems
    assert (
        "结束事件（end）有出去的顺序流：路径在结束事件处结束；请改用中间事件",
        "end",
        8,
    ) in problems
    accepted(diagram(PLAIN))


# --- no-duplicate-sequence-flows / sequence-flow-ends / ids -----------------------------------


def test_two_flows_between_the_same_two_steps_are_refused(refused, accepted):
    wrong = diagram(PLAIN + '<bpmn:sequenceFlow id="f2_again" sourceRef="work" targetRef="end" />')
    assert refused(wrong) == [
        (
            "顺序流（f2_again）与 f2 重复（都从 work 到 end）：目标会执行两次；请删除其中一条",
            "f2_again",
            9,
        ),
    ]
    accepted(diagram(PLAIN))


def test_a_flow_to_nowhere_is_refused(refused, accepted):
    wrong = diagram(PLAIN.replace('targetRef="end"', 'targetRef="finish"'))
    problems = refused(wrong)
    assert (
        "顺序流（f2）连到“finish”，但流程“测试”（p）中没有这个元素：请把它的两端都连好",
        "f2",
        7,
    ) in problems
    accepted(diagram(PLAIN))


def test_an_element_without_an_id_or_with_another_elements_id_is_refused(refused, accepted):
    no_id = diagram(PLAIN.replace('<bpmn:sequenceFlow id="f2" ', "<bpmn:sequenceFlow "))
    assert ("流程“测试”（p）中有一个顺序流没有编号：请给它一个编号", "p", 7) in refused(no_id)
    twice = diagram(PLAIN.replace('id="f2"', 'id="f1"'))
    assert ("顺序流（f1）与第 5 行的元素编号相同：请给它一个自己的编号", "f1", 7) in refused(twice)
    accepted(diagram(PLAIN))


# --- loop-without-exit ------------------------------------------------------------------------


LOOP = """
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="split" />
    <bpmn:{gateway} id="split" />
    <bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="work" />
    <bpmn:sequenceFlow id="f3" sourceRef="split" targetRef="end" {condition}
    <bpmn:userTask id="work" name="办理" camunda:candidateGroups="county_staff" />
    <bpmn:sequenceFlow id="f4" sourceRef="work" targetRef="split" />
    <bpmn:endEvent id="end" />
"""


def test_a_loop_no_gateway_can_leave_is_refused(refused, accepted):
    wrong = diagram(LOOP.format(gateway="parallelGateway", condition="/>"))
    assert (
        "经过 split → work → split 的循环永远不会结束：请用排他网关判断是否再走一轮",
        "split",
        6,
    ) in refused(wrong)
    condition = (
        '><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">done'
        "</bpmn:conditionExpression></bpmn:sequenceFlow>"
    )
    right = diagram(
        LOOP.format(gateway="exclusiveGateway", condition=condition).replace(
            'id="split" />', 'id="split" default="f2" />'
        )
    )
    accepted(right)


# --- events: conditions, names, timers, one definition ----------------------------------------


def catch(definition: str) -> str:
    """PLAIN with an intermediate catch event between 办理 and the end (line 9)."""
    return PLAIN.replace('targetRef="end" />', 'targetRef="wait" />') + (
        f'<bpmn:intermediateCatchEvent id="wait" name="等待">{definition}'
        "</bpmn:intermediateCatchEvent>\n"
        '<bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="end" />\n'
    )


def test_a_conditional_event_without_a_condition_is_refused(refused, accepted):
    assert refused(diagram(catch("<bpmn:conditionalEventDefinition />"))) == [
        ("中间捕获事件“等待”（wait）是条件事件，但没有条件：请填写条件", "wait", 9),
    ]
    right = (
        '<bpmn:conditionalEventDefinition><bpmn:condition xsi:type="bpmn:tFormalExpression">'
        "ready</bpmn:condition></bpmn:conditionalEventDefinition>"
    )
    accepted(diagram(catch(right)))


SIGNALS = '  <bpmn:signal id="sig" name="{name}" />\n'


def test_a_boundary_signal_without_a_signal_is_refused(refused, accepted):
    """It used to deploy and then crash the start (a subscription with no name)."""
    boundary = (
        '<bpmn:boundaryEvent id="stop" attachedToRef="work" {name}>'
        "<bpmn:signalEventDefinition {ref}/></bpmn:boundaryEvent>\n"
        '<bpmn:sequenceFlow id="f3" sourceRef="stop" targetRef="end" />\n'
    )
    wrong = diagram(PLAIN + boundary.format(name="", ref=""))
    assert refused(wrong) == [
        ("边界事件（stop）没有指定信号：请在建模器中选择（或新建）一个", "stop", 9),
    ]
    unnamed = diagram(
        PLAIN + boundary.format(name="", ref='signalRef="sig"'), SIGNALS.format(name="")
    )
    assert refused(unnamed) == [
        ("信号“sig”（边界事件（stop）使用）没有名称：请给它起个名称", "stop", 9),
    ]
    dangling = diagram(PLAIN + boundary.format(name="", ref='signalRef="elsewhere"'))
    assert refused(dangling) == [
        ("边界事件（stop）引用的信号“elsewhere”在流程图中没有定义", "stop", 9),
    ]
    right = diagram(
        PLAIN + boundary.format(name="", ref='signalRef="sig"'), SIGNALS.format(name="撤回")
    )
    accepted(right)


def test_a_message_without_a_name_is_refused(refused, accepted):
    wrong = diagram(
        catch('<bpmn:messageEventDefinition messageRef="msg" />'), '  <bpmn:message id="msg" />\n'
    )
    assert refused(wrong) == [
        ("消息“msg”（中间捕获事件“等待”（wait）使用）没有名称：请给它起个名称", "wait", 9),
    ]
    right = diagram(
        catch('<bpmn:messageEventDefinition messageRef="msg" />'),
        '  <bpmn:message id="msg" name="材料补齐" />\n',
    )
    accepted(right)


def test_a_timer_without_a_value_or_with_one_that_cannot_be_read_is_refused(refused, accepted):
    assert refused(diagram(catch("<bpmn:timerEventDefinition />"))) == [
        ("中间捕获事件“等待”（wait）是定时器，但没有日期、时长或周期：请设置一个", "wait", 9),
    ]
    empty = "<bpmn:timerEventDefinition><bpmn:timeDuration /></bpmn:timerEventDefinition>"
    assert refused(diagram(catch(empty))) == [("定时器时长为空", "wait", 9)]
    unreadable = (
        "<bpmn:timerEventDefinition><bpmn:timeDuration>3 days</bpmn:timeDuration>"
        "</bpmn:timerEventDefinition>"
    )
    [(message, element, line)] = refused(diagram(catch(unreadable)))
    assert message.startswith("定时器时长：") and (element, line) == ("wait", 9)
    right = (
        "<bpmn:timerEventDefinition><bpmn:timeDuration>P3D</bpmn:timeDuration>"
        "</bpmn:timerEventDefinition>"
    )
    accepted(diagram(catch(right)))


def test_an_event_with_several_definitions_is_refused(refused, accepted):
    two = (
        "<bpmn:timerEventDefinition><bpmn:timeDuration>P3D</bpmn:timeDuration>"
        "</bpmn:timerEventDefinition>"
    )
    assert refused(diagram(catch(two + two))) == [
        (
            "中间捕获事件“等待”（wait）有多个事件定义：扶助的每个事件只等待一种事件；"
            "请为每种事件各画一个事件",
            "wait",
            9,
        ),
    ]
    accepted(diagram(catch(two)))


# --- warnings (deployed all the same) ---------------------------------------------------------


def test_what_bpmnlint_only_warns_about_deploys_with_warnings(accepted):
    superfluous = PLAIN.replace('targetRef="end" />', 'targetRef="pass" />') + (
        '<bpmn:exclusiveGateway id="pass" />\n'
        '<bpmn:sequenceFlow id="f3" sourceRef="pass" targetRef="end" />\n'
    )
    assert accepted(diagram(superfluous)) == [
        ("排他网关（pass）既不分支也不汇合：可以删除", "pass", 9),
    ]
    unnamed = PLAIN.replace(' name="办理"', "")
    assert accepted(diagram(unnamed)) == [
        ("用户任务（work）没有名称：请命名，让办理人知道这一步做什么", "work", 6),
    ]
    joined = PLAIN + (
        '<bpmn:startEvent id="timer_start"><bpmn:timerEventDefinition><bpmn:timeDuration>P1D'
        "</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:startEvent>\n"
        '<bpmn:sequenceFlow id="f3" sourceRef="timer_start" targetRef="work" />\n'
    )
    assert accepted(diagram(joined)) == [
        (
            "用户任务“办理”（work）有多条进入的顺序流：请用网关汇合，以说明是否要等待全部到达",
            "work",
            6,
        ),
    ]


# --- event-based-gateway ----------------------------------------------------------------------


def test_an_event_based_gateway_followed_by_what_waits_for_nothing_is_refused(refused, accepted):
    gateway = """
        <bpmn:startEvent id="start" />
        <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
        <bpmn:eventBasedGateway id="wait" name="等待回复" />
        <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="reply" />
        <bpmn:intermediate{kind}Event id="reply" name="收到回复">{definition}</bpmn:intermediate{kind}Event>
        <bpmn:sequenceFlow id="f3" sourceRef="reply" targetRef="end" />
        <bpmn:sequenceFlow id="f4" sourceRef="wait" targetRef="late" />
        <bpmn:intermediateCatchEvent id="late" name="超时"><bpmn:timerEventDefinition><bpmn:timeDuration>P3D</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
        <bpmn:sequenceFlow id="f5" sourceRef="late" targetRef="end" />
        <bpmn:endEvent id="end" />
    """  # noqa: E501 - one element per line, as the modeler writes them
    wrong = diagram(gateway.format(kind="Throw", definition=""))
    assert refused(wrong) == [
        (
            "中间抛出事件“收到回复”（reply）跟在事件网关后面，却不等待任何事件："
            "请在网关后画出它等待的事件（消息、信号或定时器）",
            "reply",
            8,
        ),
    ]
    catch = '<bpmn:messageEventDefinition messageRef="msg" />'
    right = diagram(
        gateway.format(kind="Catch", definition=catch),
        '  <bpmn:message id="msg" name="回复" />\n',
    )
    accepted(right)
