"""The rules on how a diagram flows: where paths start and end, and what connects them."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils.translation import gettext as _
from lxml import etree

from .naming import describe
from .rule_scope import (
    Scope,
    children,
    definitions,
    for_compensation,
    is_link,
    local,
)


def start_event_required(scope: Scope) -> Iterator[tuple]:
    if scope.ad_hoc or children(scope.node, {"startEvent"}):
        return
    yield (
        scope.node,
        _("%(what)s has no start event: draw one and connect it") % {"what": describe(scope.node)},
    )


def single_blank_start_event(scope: Scope) -> Iterator[tuple]:
    blank = [s for s in children(scope.node, {"startEvent"}) if not definitions(s)]
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
            or local(node)
            in (
                "startEvent",
                "boundaryEvent",
            )
        ):
            continue
        if node.get("triggeredByEvent") == "true" or for_compensation(node):
            continue
        if is_link(node, "intermediateCatchEvent"):
            continue
        yield (
            node,
            _("%(what)s has no incoming sequence flow, so it never runs: connect it, or delete it")
            % {"what": describe(node)},
        )


def no_implicit_end(scope: Scope) -> Iterator[tuple]:
    for node in scope.nodes:
        if scope.ad_hoc or scope.outgoing[node.get("id")] or local(node) == "endEvent":
            continue
        if node.get("triggeredByEvent") == "true" or for_compensation(node):
            continue
        if is_link(node, "intermediateThrowEvent"):
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
        conditions = children(flow, {"conditionExpression"})
        condition = (conditions[0].text or "").strip() if conditions else ""
        pair = (flow.get("sourceRef"), flow.get("targetRef"), condition)
        if pair in seen:
            yield (
                flow,
                _(
                    "%(what)s repeats %(other)s from %(source)s to %(target)s: "
                    "the target would run twice; delete one"
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


def flows_where_none_may_be(scope: Scope) -> Iterator[tuple]:
    """BPMN: nothing flows into a start or boundary event, nothing out of an end event."""
    for node in scope.nodes:
        if local(node) in ("startEvent", "boundaryEvent") and scope.incoming[node.get("id")]:
            yield (
                node,
                _(
                    "%(what)s has an incoming sequence flow: a flow may not lead back to a "
                    "start or boundary event; lead it to a step after it"
                )
                % {"what": describe(node)},
            )
        if local(node) == "endEvent" and scope.outgoing[node.get("id")]:
            yield (
                node,
                _(
                    "%(what)s has an outgoing sequence flow: the path ends here; use an "
                    "intermediate event instead"
                )
                % {"what": describe(node)},
            )


def event_based_gateway(scope: Scope) -> Iterator[tuple]:
    """An event-based gateway waits for what follows it: only events (or receive tasks) that
    wait for something can follow it, or the case waits on nothing."""
    by_id = {n.get("id"): n for n in scope.nodes}
    for node in scope.nodes:
        if local(node) != "eventBasedGateway":
            continue
        for flow in scope.flows:
            target = by_id.get(flow.get("targetRef"))
            if flow.get("sourceRef") != node.get("id") or target is None:
                continue
            waits = local(target) == "receiveTask" or (
                local(target) == "intermediateCatchEvent" and definitions(target)
            )
            if not waits:
                message = _(
                    "%(what)s follows an event-based gateway but waits for nothing: after "
                    "the gateway draw the events it waits for (a message, signal or timer)"
                )
                yield target, message % {"what": describe(target)}


_DECISIONS = {"exclusiveGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}


def loop_without_exit(scope: Scope) -> Iterator[tuple]:
    """A loop with no gateway that decides whether to go round again never ends (and
    SpiffWorkflow, predicting its paths, never stops unrolling it)."""
    nodes = {n.get("id"): n for n in scope.nodes if local(n) not in _DECISIONS}
    edges: dict[str, list[str]] = {i: [] for i in nodes}
    for flow in scope.flows:
        source, target = flow.get("sourceRef"), flow.get("targetRef")
        if source in nodes and target in nodes:
            edges[source].append(target)
    reported: set[str] = set()
    for start in nodes:
        path = _cycle_from(start, edges)
        if path and not reported.intersection(path):
            reported.update(path)
            yield (
                nodes[start],
                _(
                    "the loop through %(path)s never ends: decide with an exclusive gateway "
                    "whether to go round again"
                )
                % {"path": " → ".join(path + [path[0]])},
            )


def _cycle_from(start: str, edges: dict[str, list[str]]) -> list[str] | None:
    """The ids of a loop from ``start`` back to it, if there is one (depth first, no recursion:
    diagrams can be long)."""
    stack, seen = [(start, [start])], {start}
    while stack:
        node, path = stack.pop()
        for target in edges[node]:
            if target == start:
                return path
            if target not in seen:
                seen.add(target)
                stack.append((target, path + [target]))
    return None
