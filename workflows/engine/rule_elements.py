"""The rules on single elements: events that name what they wait for, and the warnings."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from .naming import describe
from .parser import NSMAP
from .rule_scope import (
    ACTIVITIES,
    GATEWAYS,
    Scope,
    children,
    definitions,
    local,
)


def conditional_event_condition(scope: Scope) -> Iterator[tuple]:
    for node in scope.nodes:
        for definition in children(node, {"conditionalEventDefinition"}):
            conditions = children(definition, {"condition"})
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
            "kind": pgettext("bpmn", tag),
        }
    if ref not in declared:
        return _("%(what)s refers to %(kind)s '%(ref)s', which the diagram does not declare") % {
            "what": what,
            "kind": pgettext("bpmn", tag),
            "ref": ref,
        }
    if not declared[ref]:
        return _("%(kind)s '%(ref)s' (used by %(what)s) has no name: give it one") % {
            "what": what,
            "kind": pgettext("bpmn", tag),
            "ref": ref,
        }
    return None


def message_and_signal_names(scope: Scope) -> Iterator[tuple]:
    root = scope.node.getroottree().getroot()
    declared = {"message": _named(root, "message"), "signal": _named(root, "signal")}
    for node in scope.nodes:
        for tag in ("message", "signal"):
            for definition in children(node, {f"{tag}EventDefinition"}):
                ref = definition.get(f"{tag}Ref")
                problem = _reference_problem(node, ref, declared[tag], tag)
                if problem:
                    yield node, problem
        if local(node) in ("receiveTask", "sendTask"):
            ref = node.get("messageRef")
            problem = _reference_problem(node, ref, declared["message"], "message")
            if problem:
                yield node, problem


def timer_has_a_value(scope: Scope) -> Iterator[tuple]:
    """An empty or unparsable value is found by validation.check_code; this finds none at all."""
    for node in scope.nodes:
        for definition in children(node, {"timerEventDefinition"}):
            if not children(definition, {"timeDate", "timeDuration", "timeCycle"}):
                yield (
                    node,
                    _("%(what)s is a timer without a date, duration or cycle: set one")
                    % {"what": describe(node)},
                )


def single_event_definition(scope: Scope) -> Iterator[tuple]:
    for node in scope.nodes:
        if len(definitions(node)) > 1:
            yield (
                node,
                _(
                    "%(what)s has several event definitions: Fuzhu waits for one kind of event per "
                    "event; draw one event for each"
                )
                % {"what": describe(node)},
            )


# --- Warnings: what bpmnlint's recommended set only warns about ----------------------------------


def superfluous_gateway(scope: Scope) -> Iterator[tuple]:
    for node in scope.nodes:
        gateway = local(node) in GATEWAYS and local(node) != "eventBasedGateway"
        if gateway and scope.incoming[node.get("id")] == 1 == scope.outgoing[node.get("id")]:
            yield (
                node,
                _("%(what)s neither forks nor joins: it can be deleted") % {"what": describe(node)},
            )


def fake_join(scope: Scope) -> Iterator[tuple]:
    for node in scope.nodes:
        if local(node) in ACTIVITIES and scope.incoming[node.get("id")] > 1:
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
        if local(node) in ACTIVITIES and not (node.get("name") or "").strip():
            yield (
                node,
                _("%(what)s has no name: name it so people know what the step is")
                % {"what": describe(node)},
            )
