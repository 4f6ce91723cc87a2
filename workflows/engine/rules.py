"""The structural rules every diagram must pass before it deploys: one list, one place.

The modeler runs bpmnlint's recommended rules in the browser (portal/assets/lint.js); the API,
``deploy_processes`` and the modeler's own check must refuse the same things, so they are
written again here, on the XML the engine will run. An error is a diagram that can never run or
finish (a case would be stuck); a warning is what bpmnlint's recommended set only warns about.
docs/modeling.md shows each rule with a wrong and a right example.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.utils.translation import gettext as _
from lxml import etree

from . import rule_elements as elements
from . import rule_flows as flows
from .naming import describe, kind, owner_of
from .parser import BPMN_NS
from .rule_scope import NEEDS_ID, Scope, local, scopes

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    message: str
    element: str
    line: int | None


@dataclass(frozen=True)
class Rule:
    name: str  # bpmnlint's name where bpmnlint has the rule
    severity: str
    check: Callable[[Scope], Iterator[tuple]]


RULES = (
    Rule("start-event-required", ERROR, flows.start_event_required),
    Rule("single-blank-start-event", ERROR, flows.single_blank_start_event),
    Rule("no-implicit-start", ERROR, flows.no_implicit_start),
    Rule("no-implicit-end", ERROR, flows.no_implicit_end),
    Rule("no-flow-into-start-or-out-of-end", ERROR, flows.flows_where_none_may_be),
    Rule("no-duplicate-sequence-flows", ERROR, flows.no_duplicate_sequence_flows),
    Rule("sequence-flow-ends", ERROR, flows.sequence_flow_ends),
    Rule("conditional-event-condition", ERROR, elements.conditional_event_condition),
    Rule("message-and-signal-names", ERROR, elements.message_and_signal_names),
    Rule("timer-value", ERROR, elements.timer_has_a_value),
    Rule("loop-without-exit", ERROR, flows.loop_without_exit),
    Rule("event-based-gateway", ERROR, flows.event_based_gateway),
    Rule("single-event-definition", ERROR, elements.single_event_definition),
    Rule("superfluous-gateway", WARNING, elements.superfluous_gateway),
    Rule("fake-join", WARNING, elements.fake_join),
    Rule("label-required", WARNING, elements.label_required),
)


def duplicate_ids(root) -> list[Finding]:
    """Two elements with one id, or one without: the engine would take one for the other, or
    lose the element."""
    seen: dict[str, etree._Element] = {}
    findings = []
    for node in root.iter():
        if not isinstance(node.tag, str) or etree.QName(node).namespace != BPMN_NS:
            continue  # the diagram's drawing (BPMNDI) is not run
        if node.get("id") is None:
            if local(node) in NEEDS_ID:
                # The engine connects by id: a flow without one leads nowhere.
                message = _("a %(kind)s inside %(parent)s has no id: give it one") % {
                    "kind": kind(node),
                    "parent": describe(node.getparent()),
                }
                owner = owner_of(node)
                element = owner.get("id", "") if owner is not None else ""
                findings.append(Finding("ids-required", ERROR, message, element, node.sourceline))
            continue
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
