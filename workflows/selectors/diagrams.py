"""What the pages need to know of a diagram and of where a case stands on it, read here so that
nothing above the host touches the engine."""

from __future__ import annotations

from lxml import etree

from ..engine.parser import NSMAP, DiagramError, load_xml
from ..engine.runtime import task_states
from ..models import InstanceState, ProcessDefinition, ProcessInstance
from ..scopes import resolver, role_for_lane
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


def diagram_roles(xml: str) -> frozenset[str]:
    """The roles that work on a diagram: its user tasks' candidate groups (those not computed
    at run time), the roles its lanes stand for, and the roles that may start it."""
    root = _root(xml)
    if root is None:
        return frozenset()
    roles = resolver().roles()
    found: set[str] = set()
    for groups in root.xpath(".//bpmn:userTask/@camunda:candidateGroups", namespaces=NSMAP):
        if "${" not in groups:
            found.update(g.strip() for g in groups.split(",") if g.strip() in roles)
    for lane in root.xpath(".//bpmn:lane", namespaces=NSMAP):
        role = role_for_lane(lane.get("id", ""), lane.get("name", ""), roles)
        if role:
            found.add(role)
    for value in root.xpath(
        "./bpmn:process/bpmn:extensionElements/camunda:properties/"
        "camunda:property[@name='start_roles']/@value",
        namespaces=NSMAP,
    ):
        found.update(r.strip() for r in value.split(",") if r.strip() in roles)
    return frozenset(found)


_roles_by_sha: dict[str, frozenset[str]] = {}


def procedure_roles(keys: tuple[str, ...]) -> frozenset[str]:
    """The roles that work on the latest versions of these procedures (read from each diagram
    once per version)."""
    latest = (
        ProcessDefinition.objects.filter(key__in=keys)
        .order_by("key", "-version")
        .values_list("key", "sha256")
    )
    newest: dict[str, str] = {}
    for key, sha in latest:
        newest.setdefault(key, sha)
    missing = [sha for sha in newest.values() if sha not in _roles_by_sha]
    if missing:
        rows = ProcessDefinition.objects.filter(sha256__in=missing).values_list(
            "sha256", "bpmn_xml"
        )
        for sha, xml in rows:
            _roles_by_sha[sha] = diagram_roles(xml)
    return frozenset().union(*(_roles_by_sha.get(sha, frozenset()) for sha in newest.values()))
