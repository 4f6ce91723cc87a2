"""What the structural rules (rules.py) look at: the processes and sub-processes that deploy,
with the flow nodes and sequence flows drawn directly inside each."""

from __future__ import annotations

from collections import Counter

from lxml import etree

from .parser import BPMN_NS, NSMAP

EVENTS = {
    "startEvent",
    "endEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
}
SCOPES = {"subProcess", "transaction", "adHocSubProcess"}
ACTIVITIES = {
    "task",
    "userTask",
    "manualTask",
    "serviceTask",
    "scriptTask",
    "businessRuleTask",
    "sendTask",
    "receiveTask",
    "callActivity",
    *SCOPES,
}
GATEWAYS = {
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
    "complexGateway",
}
FLOW_NODES = EVENTS | ACTIVITIES | GATEWAYS
NEEDS_ID = FLOW_NODES | {"sequenceFlow", "process", "message", "signal", "error", "escalation"}


def local(node) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def children(node, names) -> list:
    return [
        c
        for c in node
        if isinstance(c.tag, str)
        and etree.QName(c).namespace == BPMN_NS
        and etree.QName(c).localname in names
    ]


def definitions(node) -> list[str]:
    return [local(c) for c in node if local(c).endswith("EventDefinition")]


class Scope:
    """A process or sub-process: the flow nodes and sequence flows drawn directly inside it."""

    def __init__(self, node):
        self.node = node
        # An element without an id is reported by ids-required; the rules look at the rest.
        self.nodes = [n for n in children(node, FLOW_NODES) if n.get("id")]
        self.flows = [f for f in children(node, {"sequenceFlow"}) if f.get("id")]
        self.incoming = Counter(f.get("targetRef") for f in self.flows)
        self.outgoing = Counter(f.get("sourceRef") for f in self.flows)
        # An ad-hoc sub-process runs its activities in any order: no flows to check.
        self.ad_hoc = local(node) == "adHocSubProcess"


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
        if not process.get("id"):
            continue  # reported by ids-required; its elements cannot be named after it
        found.append(Scope(process))
        for name in sorted(SCOPES):
            inner = process.xpath(f".//bpmn:{name}[@id]", namespaces=NSMAP)
            found += [Scope(s) for s in inner]
    return found


def is_link(node, direction: str) -> bool:
    return local(node) == direction and definitions(node) == ["linkEventDefinition"]


def for_compensation(node) -> bool:
    return node.get("isForCompensation") == "true" or "compensateEventDefinition" in (
        definitions(node)
    )
