"""What the pages need to know of a diagram and of where a case stands on it, read here so that
nothing above the host touches the engine."""

from __future__ import annotations

from lxml import etree

from ..engine.parser import NSMAP, DiagramError, load_xml
from ..engine.runtime import task_states
from ..models import InstanceState, ProcessInstance
from ..services.runtimes import runtime_for

_DONE_STATES = {"COMPLETED"}
_CURRENT_STATES = {"READY", "WAITING", "STARTED"}
_FORM_KEY = f"{{{NSMAP['camunda']}}}formKey"


def _root(xml: str):
    """A stored diagram (checked at deploy; read at its own size, whatever the limit is now)."""
    content = xml.encode()
    try:
        return load_xml(content, max_bytes=len(content) + 1)
    except DiagramError:
        return None


def diagram_user_tasks(xml: str) -> tuple[tuple[str, str], ...]:
    """The diagram's user tasks: (element id, name, else the id)."""
    root = _root(xml)
    if root is None:
        return ()
    return tuple(
        (node.get("id", ""), node.get("name") or node.get("id", ""))
        for node in root.xpath(".//bpmn:process//bpmn:userTask", namespaces=NSMAP)
    )


def diagram_element_names(xml: str) -> dict[str, str]:
    """Element id → the name people read, for every named element."""
    root = _root(xml)
    if root is None:
        return {}
    return {
        node.get("id"): node.get("name")
        for node in root.iter(etree.Element)
        if node.get("id") and node.get("name")
    }


def diagram_form_keys(xml: str) -> tuple[str, ...]:
    """The form keys the diagram names, in the order it names them."""
    root = _root(xml)
    if root is None:
        return ()
    return tuple(
        dict.fromkeys(
            node.get(_FORM_KEY) for node in root.iter(etree.Element) if node.get(_FORM_KEY)
        )
    )


def instance_token_marks(instance: ProcessInstance) -> dict[str, list[str]]:
    """Element ids the case has passed (``completed``), waits at (``current``), failed at."""
    completed: list[str] = []
    current: list[str] = []
    if instance.serialized_state and instance.serialized_state != "{}":
        workflow = runtime_for(instance.definition).load(instance.serialized_state)
        for row in task_states(workflow):
            if row["state"] in _DONE_STATES:
                completed.append(row["element"])
            elif row["state"] in _CURRENT_STATES:
                current.append(row["element"])
    if instance.is_finished:
        current = []
    incident = [instance.incident_element] if instance.state == InstanceState.INCIDENT else []
    return {
        "completed": sorted(set(completed) - set(current)),
        "current": sorted(set(current)),
        "incident": [e for e in incident if e],
    }
