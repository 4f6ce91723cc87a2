"""Engine-level checks of a diagram: is it readable, executable and safe to run?

Host-level checks (roles, handlers, forms) live in services/definitions.py; this module gives
them what they need to look at (``UserTaskInfo``, ``ServiceTaskInfo``).
"""

from __future__ import annotations

import ast
import logging
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from . import sandbox
from .parser import NSMAP, DiagramError, ParsedDiagram, parse_diagram, top_level_process_ids
from .rules import ERROR, check_rules
from .specs import AssignedUserTask, Assignment, HandlerServiceTask
from .timeexpr import check_timer_literal, timer_expression
from .wording import engine_message, line_of, plain, sandbox_message, whole_file

logger = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class DecisionTaskInfo:
    """A business rule task and the DMN decision it names (``camunda:decisionRef``)."""

    element: str
    line: int | None
    decision: str


def _owner(node: etree._Element) -> etree._Element:
    """The nearest ancestor-or-self with an id: the element a problem is reported on."""
    while node is not None and node.get("id") is None:
        node = node.getparent()
    return node


# What each kind of code is called in a message (the modeler's words).
_CODE_KINDS = {
    "condition": lambda: pgettext("code", "condition"),
    "script": lambda: pgettext("code", "script"),
    "completionCondition": lambda: pgettext("code", "completion condition"),
    "loopCardinality": lambda: pgettext("code", "loop cardinality"),
    "timer timeDate": lambda: pgettext("code", "timer date"),
    "timer timeDuration": lambda: pgettext("code", "timer duration"),
    "timer timeCycle": lambda: pgettext("code", "timer cycle"),
    "scope": lambda: pgettext("code", "scope"),
    "input expression": lambda: pgettext("code", "input expression"),
    "input entry": lambda: pgettext("code", "input entry"),
    "output entry": lambda: pgettext("code", "output entry"),
}


def _kind_label(kind: str) -> str:
    label = _CODE_KINDS.get(kind)
    return label() if label else kind


def _code_problem(node, source: str, kind: str, *, script: bool = False) -> EngineProblem | None:
    try:
        (sandbox.check_script if script else sandbox.check_expression)(source)
    except sandbox.SandboxViolation as exc:
        owner = _owner(node)
        line = node.sourceline
        if exc.line and script:
            line = (node.sourceline or 0) + exc.line - 1
        message = _("%(kind)s: %(detail)s") % {
            "kind": _kind_label(kind),
            "detail": sandbox_message(exc.message),
        }
        return EngineProblem(message, owner.get("id", "") if owner is not None else "", line)
    return None


def _timer_problem(node, tag: str) -> EngineProblem | None:
    """A literal must be valid ISO 8601; an expression must pass the sandbox."""
    text = (node.text or "").strip()
    if not text:
        return _problem_at(node, _("%(kind)s is empty") % {"kind": _kind_label(f"timer {tag}")})
    expression = timer_expression(text)
    try:
        literal = ast.literal_eval(expression)
    except (ValueError, SyntaxError):
        return _code_problem(node, expression, f"timer {tag}")
    message = check_timer_literal(str(literal))
    if not message:
        return None
    return _problem_at(
        node,
        _("%(kind)s: %(detail)s") % {"kind": _kind_label(f"timer {tag}"), "detail": message},
    )


def _problem_at(node, message: str) -> EngineProblem:
    owner = _owner(node)
    return EngineProblem(message, owner.get("id", "") if owner is not None else "", node.sourceline)


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
            problems.append(_timer_problem(node, tag))
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


_line_of = line_of


def _encoding_problem(root: etree._Element) -> EngineProblem | None:
    declared = root.getroottree().docinfo.encoding or "UTF-8"
    if declared.upper().replace("_", "-") in ("UTF-8", "UTF8"):
        return None
    return EngineProblem(
        _('the file declares encoding="%(encoding)s": save it as UTF-8') % {"encoding": declared},
        "",
        1,
    )


def _no_executable_process(root: etree._Element) -> EngineProblem:
    processes = root.xpath("./bpmn:process", namespaces=NSMAP)
    if not processes:
        return EngineProblem(_("the diagram contains no process"))
    return EngineProblem(
        _(
            "the process is not executable: tick 'Executable' on the process in the modeler "
            '(isExecutable="true")'
        ),
        processes[0].get("id", ""),
        processes[0].sourceline,
    )


def _parse(
    root: etree._Element, extra_roots, decisions
) -> tuple[ParsedDiagram | None, EngineProblem | None]:
    """Parse for checking: a called process or decision table that is missing does not stop
    the other checks."""
    if not top_level_process_ids(root):
        return None, _no_executable_process(root)
    try:
        parsed = parse_diagram(
            root, extra_roots=extra_roots, require_called=False, decisions=decisions
        )
        return parsed, None
    except DiagramError as exc:
        return None, EngineProblem(exc.message, exc.element, exc.line)
    except ValidationException as exc:
        element = exc.id or ""
        message = str(exc.args[0]) if exc.args else str(exc)
        return None, EngineProblem(
            engine_message(root, element, message),
            element,
            exc.line_number or _line_of(root, element),
        )
    except Exception as exc:  # noqa: BLE001 - an odd diagram must be refused, never crash a deploy
        logger.warning("the parser failed on a diagram", exc_info=True)
        # No exception class or repr: the owner is told which process, and what the engine said.
        return None, EngineProblem(
            _("%(what)s could not be read (%(detail)s)")
            % {"what": whole_file(root), "detail": plain(str(exc)) or _("no detail")}
        )


@dataclass
class EngineCheck:
    parsed: ParsedDiagram | None
    problems: list[EngineProblem]
    user_tasks: list[UserTaskInfo]
    service_tasks: list[ServiceTaskInfo]
    called_elements: list[str]
    decision_tasks: list[DecisionTaskInfo] = field(default_factory=list)
    warnings: list[EngineProblem] = field(default_factory=list)


def check_diagram(
    root: etree._Element, *, extra_roots: list | None = None, decisions: dict | None = None
) -> EngineCheck:
    """Parse the diagram and check its code; collect what the host must check further.

    ``decisions``: the DMN files (name → parsed root) its business rule tasks may name."""
    problems = [p for p in (_encoding_problem(root),) if p] + check_code(root)
    findings = check_rules(root)
    errors, warnings = [], []
    for finding in findings:
        as_problem = EngineProblem(finding.message, finding.element, finding.line)
        (errors if finding.severity == ERROR else warnings).append(as_problem)
    problems += errors
    parsed, problem = _parse(root, extra_roots, decisions)
    if problem is not None and not errors:
        # With a structural error the engine's complaint is that error again, in its words.
        problems.append(problem)
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
    # A call activity that names no process is reported by the parser; None must not be sorted.
    called = sorted(
        {c.get("calledElement") or "" for c in root.xpath(".//bpmn:callActivity", namespaces=NSMAP)}
    )
    decision_tasks = [
        DecisionTaskInfo(
            node.get("id", ""), node.sourceline, node.get(f"{{{CAMUNDA}}}decisionRef", "")
        )
        for node in root.xpath(".//bpmn:businessRuleTask", namespaces=NSMAP)
    ]
    return EngineCheck(
        parsed,
        problems,
        user_tasks,
        service_tasks,
        [c for c in called if c],
        decision_tasks,
        warnings,
    )


def missing_called_elements(root: etree._Element) -> list[str]:
    """Processes that call activities name but this file does not hold."""
    here = {p.get("id") for p in root.xpath("./bpmn:process", namespaces=NSMAP)}
    called = {c.get("calledElement") for c in root.xpath(".//bpmn:callActivity", namespaces=NSMAP)}
    return sorted(c for c in called if c and c not in here)


def check_decision_code(root: etree._Element) -> list[EngineProblem]:
    """Every expression of a DMN file's decision tables, checked against the sandbox the way
    SpiffWorkflow's DMN engine will run it: input expressions, input entries (a value, or a
    test such as ``<= 100`` or ``1 < ? < 5`` on the input), output entries. Lines are the DMN
    file's (the diagram's line numbers do not apply)."""
    problems: list[EngineProblem | None] = []

    def text_of(node) -> str:
        found = [c for c in node if etree.QName(c).localname == "text"]
        return (found[0].text or "").strip() if found else ""

    for table in root.iter():
        if not isinstance(table.tag, str) or etree.QName(table).localname != "decisionTable":
            continue
        inputs = []
        for node in table:
            kind = etree.QName(node).localname if isinstance(node.tag, str) else ""
            if kind == "input":
                expressions = [c for c in node if etree.QName(c).localname == "inputExpression"]
                code = text_of(expressions[0]) if expressions else ""
                inputs.append(code)
                problems.append(_decision_problem(node, code, "input expression"))
            elif kind == "rule":
                problems.extend(_rule_problems(node, inputs, text_of))
    return [p for p in problems if p is not None]


def _rule_problems(rule, inputs: list[str], text_of) -> list[EngineProblem | None]:
    problems: list[EngineProblem | None] = []
    entries = [c for c in rule if isinstance(c.tag, str)]
    input_entries = [c for c in entries if etree.QName(c).localname == "inputEntry"]
    for index, entry in enumerate(input_entries):
        test = text_of(entry)
        if not test or test == "-" or index >= len(inputs):
            continue
        problems.append(_decision_problem(entry, _unary_test(inputs[index], test), "input entry"))
    for entry in (c for c in entries if etree.QName(c).localname == "outputEntry"):
        output = text_of(entry)
        if output:
            problems.append(_decision_problem(entry, output, "output entry"))
    return problems


def _unary_test(input_code: str, test: str) -> str:
    """The expression SpiffWorkflow's DMN engine evaluates for an input entry."""
    if "?" in test:
        return test.replace("?", "(dmn_input)")
    try:
        ast.parse(test, mode="eval")
    except SyntaxError:
        return f"({input_code}) {test}"
    return f"({input_code}) == ({test})"


def _decision_problem(node, code: str, kind: str) -> EngineProblem | None:
    """A problem in a DMN file, on its decision-table element and at its line there."""
    if not code:
        return _problem_at(node, f"the {kind} is empty")
    return _code_problem(node, code, kind)
