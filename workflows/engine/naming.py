"""How a problem names what the owner drew: the element's kind, its name and its id.

The owner sees the diagram, not the engine: "用户任务“审核”（check）", never a task spec or an
lxml object. Every deploy message that points at an element names it through ``describe``.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from lxml import etree

# The BPMN element kinds, in the words of the modeler's palette.
_KINDS = {
    "process": lambda: pgettext("bpmn", "process"),
    "subProcess": lambda: pgettext("bpmn", "sub-process"),
    "transaction": lambda: pgettext("bpmn", "transaction"),
    "adHocSubProcess": lambda: pgettext("bpmn", "ad-hoc sub-process"),
    "callActivity": lambda: pgettext("bpmn", "call activity"),
    "task": lambda: pgettext("bpmn", "task"),
    "userTask": lambda: pgettext("bpmn", "user task"),
    "manualTask": lambda: pgettext("bpmn", "manual task"),
    "serviceTask": lambda: pgettext("bpmn", "service task"),
    "scriptTask": lambda: pgettext("bpmn", "script task"),
    "businessRuleTask": lambda: pgettext("bpmn", "business rule task"),
    "sendTask": lambda: pgettext("bpmn", "send task"),
    "receiveTask": lambda: pgettext("bpmn", "receive task"),
    "startEvent": lambda: pgettext("bpmn", "start event"),
    "endEvent": lambda: pgettext("bpmn", "end event"),
    "intermediateCatchEvent": lambda: pgettext("bpmn", "intermediate catch event"),
    "intermediateThrowEvent": lambda: pgettext("bpmn", "intermediate throw event"),
    "boundaryEvent": lambda: pgettext("bpmn", "boundary event"),
    "exclusiveGateway": lambda: pgettext("bpmn", "exclusive gateway"),
    "parallelGateway": lambda: pgettext("bpmn", "parallel gateway"),
    "inclusiveGateway": lambda: pgettext("bpmn", "inclusive gateway"),
    "eventBasedGateway": lambda: pgettext("bpmn", "event-based gateway"),
    "complexGateway": lambda: pgettext("bpmn", "complex gateway"),
    "sequenceFlow": lambda: pgettext("bpmn", "sequence flow"),
    "message": lambda: pgettext("bpmn", "message"),
    "signal": lambda: pgettext("bpmn", "signal"),
    "lane": lambda: pgettext("bpmn", "lane"),
}


def owner_of(node: etree._Element | None) -> etree._Element | None:
    """The nearest ancestor-or-self with an id: the element a problem is reported on."""
    while node is not None and node.get("id") is None:
        node = node.getparent()
    return node


def kind(node: etree._Element) -> str:
    tag = etree.QName(node).localname if isinstance(node.tag, str) else ""
    if tag == "subProcess" and node.get("triggeredByEvent") == "true":
        return pgettext("bpmn", "event sub-process")
    label = _KINDS.get(tag)
    return label() if label else pgettext("bpmn", "element")


def describe(node: etree._Element | None) -> str:
    """'用户任务“审核”（check）' — kind, name (when it has one) and id."""
    node = owner_of(node)
    if node is None or node.getparent() is None:  # the file's <definitions> itself
        return _("the diagram")
    name = (node.get("name") or "").strip()
    if name:
        return _("%(kind)s “%(name)s” (%(id)s)") % {
            "kind": kind(node),
            "name": name,
            "id": node.get("id"),
        }
    return _("%(kind)s %(id)s") % {"kind": kind(node), "id": node.get("id")}
