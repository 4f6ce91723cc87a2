"""Engine-level checks of a diagram: is it readable, executable and safe to run?

Host-level checks (roles, handlers, forms) live in services/definitions.py; this module gives
them what they need to look at (``UserTaskInfo``, ``ServiceTaskInfo``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from . import sandbox
from .parser import NSMAP, DiagramError, ParsedDiagram, parse_diagram
from .specs import AssignedUserTask, Assignment, HandlerServiceTask

CAMUNDA = NSMAP["camunda"]
_EXPRESSION = re.compile(r"^\$\{(.*)\}$", re.DOTALL)


@dataclass(frozen=True)
class EngineProblem:
    message: str
    element: str = ""
    line: int | None = None


@dataclass(frozen=True)
class UserTaskInfo:
    element: str
    line: int | None
    lane: str
    assignment: Assignment


@dataclass(frozen=True)
class ServiceTaskInfo:
    element: str
    line: int | None
    topic: str


def _owner(node: etree._Element) -> etree._Element:
    """The nearest ancestor-or-self with an id: the element a problem is reported on."""
    while node is not None and node.get("id") is None:
        node = node.getparent()
    return node


def _code_problem(node, source: str, kind: str, *, script: bool = False) -> EngineProblem | None:
    try:
        (sandbox.check_script if script else sandbox.check_expression)(source)
    except sandbox.SandboxViolation as exc:
        owner = _owner(node)
        line = node.sourceline
        if exc.line and script:
            line = (node.sourceline or 0) + exc.line - 1
        return EngineProblem(
            f"{kind}: {exc.message}", owner.get("id", "") if owner is not None else "", line
        )
    return None


def expression_inside(value: str) -> str | None:
    """The code of a ``${...}`` attribute value, or None for a literal."""
    match = _EXPRESSION.match((value or "").strip())
    return match.group(1).strip() if match else None


def check_code(root: etree._Element) -> list[EngineProblem]:
    """Every condition, script and expression in the file, checked against the sandbox."""
    problems = _check_element_code(root) + _check_attribute_code(root)
    return [p for p in problems if p is not None]


def _check_element_code(root: etree._Element) -> list[EngineProblem | None]:
    problems: list[EngineProblem | None] = []
    for node in root.xpath(".//bpmn:conditionExpression", namespaces=NSMAP):
        problems.append(_code_problem(node, node.text or "", "condition"))
    for node in root.xpath(".//bpmn:scriptTask/bpmn:script", namespaces=NSMAP):
        problems.append(_code_problem(node, node.text or "", "script", script=True))
    for tag in ("completionCondition", "loopCardinality"):
        for node in root.xpath(f".//bpmn:{tag}", namespaces=NSMAP):
            problems.append(_code_problem(node, node.text or "", tag))
    for tag in ("timeDate", "timeDuration", "timeCycle"):
        for node in root.xpath(f".//bpmn:{tag}", namespaces=NSMAP):
            problems.append(_code_problem(node, node.text or "", f"timer {tag}"))
    return problems


def _check_attribute_code(root: etree._Element) -> list[EngineProblem | None]:
    problems: list[EngineProblem | None] = []
    for attribute in ("assignee", "candidateUsers", "candidateGroups", "dueDate", "followUpDate"):
        for node in root.xpath(f".//bpmn:userTask[@camunda:{attribute}]", namespaces=NSMAP):
            code = expression_inside(node.get(f"{{{CAMUNDA}}}{attribute}"))
            if code is not None:
                problems.append(_code_problem(node, code, f"camunda:{attribute}"))
    for node in root.xpath(".//camunda:property[@name='scope']", namespaces=NSMAP):
        code = expression_inside(node.get("value"))
        if code is not None:
            problems.append(_code_problem(node, code, "scope"))
    return problems


def _line_of(root: etree._Element, element_id: str) -> int | None:
    nodes = root.xpath(".//*[@id=$id]", id=element_id)
    return nodes[0].sourceline if nodes else None


@dataclass
class EngineCheck:
    parsed: ParsedDiagram | None
    problems: list[EngineProblem]
    user_tasks: list[UserTaskInfo]
    service_tasks: list[ServiceTaskInfo]
    called_elements: list[str]


def check_diagram(root: etree._Element, *, extra_roots: list | None = None) -> EngineCheck:
    """Parse the diagram and check its code; collect what the host must check further."""
    problems = check_code(root)
    parsed = None
    try:
        parsed = parse_diagram(root, extra_roots=extra_roots)
    except DiagramError as exc:
        problems.append(EngineProblem(exc.message, exc.element, exc.line))
    except ValidationException as exc:
        problems.append(
            EngineProblem(
                str(exc.args[0]) if exc.args else str(exc), exc.id or "", exc.line_number or None
            )
        )
    user_tasks: list[UserTaskInfo] = []
    service_tasks: list[ServiceTaskInfo] = []
    if parsed is not None:
        specs = [parsed.spec, *[s for s in parsed.subprocess_specs.values() if s is not None]]
        for process_spec in specs:
            for spec in process_spec.task_specs.values():
                if isinstance(spec, AssignedUserTask):
                    user_tasks.append(
                        UserTaskInfo(
                            spec.bpmn_id,
                            _line_of(root, spec.bpmn_id),
                            spec.lane or "",
                            spec.assignment,
                        )
                    )
                elif isinstance(spec, HandlerServiceTask):
                    service_tasks.append(
                        ServiceTaskInfo(spec.bpmn_id, _line_of(root, spec.bpmn_id), spec.topic)
                    )
    called = sorted(
        {c.get("calledElement") for c in root.xpath(".//bpmn:callActivity", namespaces=NSMAP)}
    )
    return EngineCheck(parsed, problems, user_tasks, service_tasks, [c for c in called if c])


def missing_called_elements(root: etree._Element) -> list[str]:
    """Processes that call activities name but this file does not hold."""
    here = {p.get("id") for p in root.xpath("./bpmn:process", namespaces=NSMAP)}
    called = {c.get("calledElement") for c in root.xpath(".//bpmn:callActivity", namespaces=NSMAP)}
    return sorted(c for c in called if c and c not in here)
