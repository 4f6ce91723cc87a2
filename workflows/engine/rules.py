"""The structural rules every diagram must pass before it deploys: one list, one place.

The modeler runs bpmnlint's recommended rules in the browser (portal/assets/lint.js); the API,
``deploy_processes`` and the modeler's own check must refuse the same things, so they are
written again here, on the XML the engine will run. An error is a diagram that can never run or
finish (a case would be stuck); a warning is what bpmnlint's recommended set only warns about.
docs/modeling.md shows each rule with a wrong and a right example.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.utils.translation import gettext as _
from lxml import etree

from .naming import describe, owner_of
from .parser import BPMN_NS, NSMAP

ERROR, WARNING = "error", "warning"

_EVENTS = {
    "startEvent",
    "endEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
}
_SCOPES = {"subProcess", "transaction", "adHocSubProcess"}
_ACTIVITIES = {
    "task",
    "userTask",
    "manualTask",
    "serviceTask",
    "scriptTask",
    "businessRuleTask",
    "sendTask",
    "receiveTask",
    "callActivity",
    *_SCOPES,
}
_GATEWAYS = {
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
    "complexGateway",
}
FLOW_NODES = _EVENTS | _ACTIVITIES | _GATEWAYS


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    message: str
    element: str
    line: int | None


def _local(node) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _bpmn_children(node, names) -> list:
    return [
        c
        for c in node
        if isinstance(c.tag, str)
        and etree.QName(c).namespace == BPMN_NS
        and etree.QName(c).localname in names
    ]


def _definitions(node) -> list[str]:
    return [_local(c) for c in node if _local(c).endswith("EventDefinition")]


class Scope:
    """A process or sub-process: the flow nodes and sequence flows drawn directly inside it."""

    def __init__(self, node):
        self.node = node
        self.nodes = _bpmn_children(node, FLOW_NODES)
        self.flows = _bpmn_children(node, {"sequenceFlow"})
        self.incoming = Counter(f.get("targetRef") for f in self.flows)
        self.outgoing = Counter(f.get("sourceRef") for f in self.flows)
        self.is_process = _local(node) == "process"
        self.ad_hoc = _local(node) == "adHocSubProcess"
        self.event_sub_process = node.get("triggeredByEvent") == "true"


def scopes(root) -> list[Scope]:
    """The processes that deploy (executable, or called from this file) and every sub-process
    inside them."""
    called = {c.get("calledElement") for c in root.xpath(".//bpmn:callActivity", namespaces=NSMAP)}
    found = []
    for process in root.xpath("./bpmn:process", namespaces=NSMAP):
        if process.get("isExecutable", "false").lower() != "true" and (
            process.get("id") not in called
        ):
            continue
        found.append(Scope(process))
        for name in sorted(_SCOPES):
            found += [Scope(s) for s in process.xpath(f".//bpmn:{name}", namespaces=NSMAP)]
    return found


def _is_link(node, direction: str) -> bool:
    return _local(node) == direction and _definitions(node) == ["linkEventDefinition"]


def _for_compensation(node) -> bool:
    return node.get("isForCompensation") == "true" or "compensateEventDefinition" in (
        _definitions(node)
    )


# --- The rules: each yields (element, message) --------------------------------------------------


def start_event_required(scope: Scope) -> Iterator[tuple]:
    if scope.ad_hoc or _bpmn_children(scope.node, {"startEvent"}):
        return
    yield (
        scope.node,
        _("%(what)s has no start event: draw one and connect it") % {"what": describe(scope.node)},
    )


def single_blank_start_event(scope: Scope) -> Iterator[tuple]:
    blank = [s for s in _bpmn_children(scope.node, {"startEvent"}) if not _definitions(s)]
    if len(blank) > 1:
        yield (
            blank[1],
            _(
                "%(what)s has several blank start events (%(ids)s): a case would start on each; "
                "keep one"
            )
            % {"what": describe(scope.node), "ids": ", ".join(s.get("id", "") for s in blank)},
        )


def no_implicit_start(scope: Scope) -> Iterator[tuple]:
    for node in scope.nodes:
        if (
            scope.ad_hoc
            or scope.incoming[node.get("id")]
            or _local(node)
            in (
                "startEvent",
                "boundaryEvent",
            )
        ):
            continue
        if node.get("triggeredByEvent") == "true" or _for_compensation(node):
            continue
        if _is_link(node, "intermediateCatchEvent"):
            continue
        yield (
            node,
            _("%(what)s has no incoming sequence flow, so it never runs: connect it, or delete it")
            % {"what": describe(node)},
        )


def no_implicit_end(scope: Scope) -> Iterator[tuple]:
    for node in scope.nodes:
        if scope.ad_hoc or scope.outgoing[node.get("id")] or _local(node) == "endEvent":
            continue
        if node.get("triggeredByEvent") == "true" or _for_compensation(node):
            continue
        if _is_link(node, "intermediateThrowEvent"):
            continue
        yield (
            node,
            _(
                "the path through %(what)s ends without an end event: connect it to the next step "
                "or to an end event"
            )
            % {"what": describe(node)},
        )


def no_duplicate_sequence_flows(scope: Scope) -> Iterator[tuple]:
    # As bpmnlint keys them: two flows with different conditions out of a gateway are two routes.
    seen: dict[tuple, etree._Element] = {}
    for flow in scope.flows:
        conditions = _bpmn_children(flow, {"conditionExpression"})
        condition = (conditions[0].text or "").strip() if conditions else ""
        pair = (flow.get("sourceRef"), flow.get("targetRef"), condition)
        if pair in seen:
            yield (
                flow,
                _(
                    "%(what)s repeats %(other)s from %(source)s to %(target)s: the target would run "
                    "twice; delete one"
                )
                % {
                    "what": describe(flow),
                    "other": seen[pair].get("id", ""),
                    "source": pair[0],
                    "target": pair[1],
                },
            )
        else:
            seen[pair] = flow


def sequence_flow_ends(scope: Scope) -> Iterator[tuple]:
    ids = {n.get("id") for n in scope.nodes}
    for flow in scope.flows:
        for end in ("sourceRef", "targetRef"):
            ref = flow.get(end)
            if ref not in ids:
                yield (
                    flow,
                    _(
                        "%(what)s connects to '%(ref)s', which is not an element of %(scope)s: "
                        "connect both of its ends"
                    )
                    % {"what": describe(flow), "ref": ref or "", "scope": describe(scope.node)},
                )


def conditional_event_condition(scope: Scope) -> Iterator[tuple]:
    for node in scope.nodes:
        for definition in _bpmn_children(node, {"conditionalEventDefinition"}):
            conditions = _bpmn_children(definition, {"condition"})
            if not conditions or not (conditions[0].text or "").strip():
                yield (
                    node,
                    _("%(what)s is a conditional event without a condition: write one")
                    % {"what": describe(node)},
                )


def _named(root, tag: str) -> dict[str, str]:
    return {
        n.get("id"): (n.get("name") or "").strip()
        for n in root.xpath(f"./bpmn:{tag}", namespaces=NSMAP)
    }


def _reference_problem(node, ref, declared: dict[str, str], tag: str) -> str | None:
    what = describe(node)
    if ref is None:
        if (node.get("name") or "").strip():
            return None  # SpiffWorkflow names it after the event then; throw and catch still meet
        return _("%(what)s names no %(kind)s: pick one (or create it) in the modeler") % {
            "what": what,
            "kind": _("message") if tag == "message" else _("signal"),
        }
    if ref not in declared:
        return _("%(what)s refers to %(kind)s '%(ref)s', which the diagram does not declare") % {
            "what": what,
            "kind": _("message") if tag == "message" else _("signal"),
            "ref": ref,
        }
    if not declared[ref]:
        return _("%(kind)s '%(ref)s' (used by %(what)s) has no name: give it one") % {
            "what": what,
            "kind": _("message") if tag == "message" else _("signal"),
            "ref": ref,
        }
    return None


def message_and_signal_names(scope: Scope) -> Iterator[tuple]:
    root = scope.node.getroottree().getroot()
    declared = {"message": _named(root, "message"), "signal": _named(root, "signal")}
    for node in scope.nodes:
        for tag in ("message", "signal"):
            for definition in _bpmn_children(node, {f"{tag}EventDefinition"}):
                ref = definition.get(f"{tag}Ref")
                problem = _reference_problem(node, ref, declared[tag], tag)
                if problem:
                    yield node, problem
        if _local(node) in ("receiveTask", "sendTask"):
            ref = node.get("messageRef")
            problem = _reference_problem(node, ref, declared["message"], "message")
            if problem:
                yield node, problem


def timer_has_a_value(scope: Scope) -> Iterator[tuple]:
    """An empty or unparsable value is found by validation.check_code; this finds none at all."""
    for node in scope.nodes:
        for definition in _bpmn_children(node, {"timerEventDefinition"}):
            if not _bpmn_children(definition, {"timeDate", "timeDuration", "timeCycle"}):
                yield (
                    node,
                    _("%(what)s is a timer without a date, duration or cycle: set one")
                    % {"what": describe(node)},
                )


# --- Warnings: what bpmnlint's recommended set only warns about ----------------------------------


def superfluous_gateway(scope: Scope) -> Iterator[tuple]:
    for node in scope.nodes:
        gateway = _local(node) in _GATEWAYS and _local(node) != "eventBasedGateway"
        if gateway and scope.incoming[node.get("id")] == 1 == scope.outgoing[node.get("id")]:
            yield (
                node,
                _("%(what)s neither forks nor joins: it can be deleted") % {"what": describe(node)},
            )


def fake_join(scope: Scope) -> Iterator[tuple]:
    for node in scope.nodes:
        if _local(node) in _ACTIVITIES and scope.incoming[node.get("id")] > 1:
            yield (
                node,
                _(
                    "%(what)s has several incoming flows: join them with a gateway to make clear "
                    "whether it waits for all of them"
                )
                % {"what": describe(node)},
            )


def label_required(scope: Scope) -> Iterator[tuple]:
    for node in scope.nodes:
        if _local(node) in _ACTIVITIES and not (node.get("name") or "").strip():
            yield (
                node,
                _("%(what)s has no name: name it so people know what the step is")
                % {"what": describe(node)},
            )


@dataclass(frozen=True)
class Rule:
    name: str  # bpmnlint's name where bpmnlint has the rule
    severity: str
    check: Callable[[Scope], Iterator[tuple]]


RULES = (
    Rule("start-event-required", ERROR, start_event_required),
    Rule("single-blank-start-event", ERROR, single_blank_start_event),
    Rule("no-implicit-start", ERROR, no_implicit_start),
    Rule("no-implicit-end", ERROR, no_implicit_end),
    Rule("no-duplicate-sequence-flows", ERROR, no_duplicate_sequence_flows),
    Rule("sequence-flow-ends", ERROR, sequence_flow_ends),
    Rule("conditional-event-condition", ERROR, conditional_event_condition),
    Rule("message-and-signal-names", ERROR, message_and_signal_names),
    Rule("timer-value", ERROR, timer_has_a_value),
    Rule("superfluous-gateway", WARNING, superfluous_gateway),
    Rule("fake-join", WARNING, fake_join),
    Rule("label-required", WARNING, label_required),
)


def duplicate_ids(root) -> list[Finding]:
    """Two elements with one id: the engine would silently take one for the other."""
    seen: dict[str, etree._Element] = {}
    findings = []
    for node in root.iter():
        if not isinstance(node.tag, str) or node.get("id") is None:
            continue
        if etree.QName(node).namespace != BPMN_NS:
            continue  # the diagram's drawing (BPMNDI) is not run
        if node.get("id") in seen:
            message = _("%(what)s uses the id of an element on line %(line)s: give it its own") % {
                "what": describe(node),
                "line": seen[node.get("id")].sourceline,
            }
            findings.append(Finding("unique-ids", ERROR, message, node.get("id"), node.sourceline))
        else:
            seen[node.get("id")] = node
    return findings


def check_rules(root) -> list[Finding]:
    """Every rule on every process and sub-process that deploys, top to bottom."""
    findings = duplicate_ids(root)
    for scope in scopes(root):
        for rule in RULES:
            for node, message in rule.check(scope):
                owner = owner_of(node)
                element = owner.get("id", "") if owner is not None else ""
                finding = Finding(rule.name, rule.severity, message, element, node.sourceline)
                findings.append(finding)
    return sorted(findings, key=lambda f: f.line or 0)
