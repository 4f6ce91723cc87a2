"""Checking one DMN decision table the way SpiffWorkflow will run it.

A table arrives as untrusted XML (an upload, the modeler's dmn-js, a file of the pack), so it is
read with the same safe loader as diagrams. Every problem names the DMN element and the line in
the table's own XML, so the modeler can point at it.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.dmn.parser.DMNParser import DMNParser

from .parser import DiagramError, decision_ids, load_dmn_xml
from .validation import EngineProblem, check_decision_code

# What SpiffWorkflow's DMN engine implements (SpiffWorkflow.dmn.specs.model.HitPolicy); any
# other policy would silently run as COLLECT, so it is refused instead.
HIT_POLICIES = ("UNIQUE", "COLLECT")
_NEED_ID = ("input", "output", "rule", "inputEntry", "outputEntry")


@dataclass
class TableCheck:
    root: etree._Element | None  # None when the XML cannot be read at all
    problems: list[EngineProblem]


def _local(node) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _children(node, name: str) -> list:
    return [c for c in node if _local(c) == name]


def _at(node, message: str) -> EngineProblem:
    owner = node
    while owner is not None and owner.get("id") is None:
        owner = owner.getparent()
    return EngineProblem(message, owner.get("id", "") if owner is not None else "", node.sourceline)


def _hit_policy_problems(table) -> list[EngineProblem]:
    policy = (table.get("hitPolicy") or "UNIQUE").upper()
    if policy not in HIT_POLICIES:
        return [
            _at(
                table,
                f"hit policy {policy} is not supported: use {' or '.join(HIT_POLICIES)} "
                "(UNIQUE takes the first rule that matches, COLLECT lists every match)",
            )
        ]
    if policy == "COLLECT" and table.get("aggregation"):
        return [
            _at(
                table,
                f"COLLECT with aggregation {table.get('aggregation')} is not supported: "
                "collect without aggregation (each output becomes a list)",
            )
        ]
    return []


def _element_problems(table) -> list[EngineProblem]:
    """Only columns and rules, each with an id (SpiffWorkflow's parser stops at anything else,
    and keys columns, rules and cells by id: it would fail with a KeyError)."""
    problems = [
        _at(
            node,
            f"<{_local(node)}> cannot be in a decision table here: only inputs, outputs "
            "and rules (remove the annotation column or description)",
        )
        for node in table
        if isinstance(node.tag, str) and _local(node) not in ("input", "output", "rule")
    ]
    problems += [
        EngineProblem(
            f"the <{_local(node)}> has no id (dmn-js gives every column, rule and cell "
            "one): save the table again from the modeler",
            table.get("id", ""),
            node.sourceline,
        )
        for node in table.iter()
        if _local(node) in _NEED_ID and not node.get("id")
    ]
    return problems


def _table_shape_problems(table) -> list[EngineProblem]:
    """Hit policy, elements, and rules whose entries do not match the table's columns."""
    problems = _hit_policy_problems(table) + _element_problems(table)
    inputs, outputs = len(_children(table, "input")), len(_children(table, "output"))
    if not outputs:
        return [*problems, _at(table, "the decision table has no output column")]
    for rule in _children(table, "rule"):
        for kind, wanted in (("inputEntry", inputs), ("outputEntry", outputs)):
            found = len(_children(rule, kind))
            if found != wanted:
                column = "input" if kind == "inputEntry" else "output"
                problems.append(
                    _at(rule, f"the rule has {found} {column} entries; the table has {wanted}")
                )
    return problems


def _engine_problem(root, decision_id: str) -> EngineProblem | None:
    """What SpiffWorkflow's own DMN parser refuses (an unknown element, a malformed output)."""
    namespaces = {"dmn": etree.QName(root).namespace}
    try:
        DMNParser(None, root, namespaces, filename=f"{decision_id}.dmn").parse()
    except ValidationException as exc:
        message = str(exc.args[0]) if exc.args else str(exc)
        element = exc.id or ""
        found = root.xpath(".//*[@id=$id]", id=element) if element else []
        line = exc.line_number or (found[0].sourceline if found else None)
        return EngineProblem(message.strip(), element, line)
    except (KeyError, IndexError, AttributeError, TypeError) as exc:
        # An element without the attribute the engine needs (an id, …): refused, never crash.
        return EngineProblem(f"the decision table cannot be run: {type(exc).__name__}: {exc}")
    return None


def check_decision_table(content: bytes, *, decision: str, max_bytes: int) -> TableCheck:
    """Every problem of the DMN XML that should hold decision ``decision``."""
    try:
        root = load_dmn_xml(content, max_bytes=max_bytes)
    except DiagramError as exc:
        return TableCheck(None, [EngineProblem(exc.message, exc.element, exc.line)])
    ids = decision_ids(root)
    if len(ids) != 1:
        problem = EngineProblem(
            f"the file holds {len(ids)} decisions; put exactly one per file", "", root.sourceline
        )
        return TableCheck(root, [problem])
    [node] = [n for n in root if _local(n) == "decision"]
    if ids[0] != decision:
        problem = _at(
            node, f"the file holds decision '{ids[0]}', not '{decision}': keep the decision id"
        )
        return TableCheck(root, [problem])
    tables = _children(node, "decisionTable")
    if len(tables) != 1:
        problem = _at(
            node,
            "the decision is not a decision table (literal expressions and decision "
            "requirements are not run): give it one decision table",
        )
        return TableCheck(root, [problem])
    # Ours first (they say more, with lines); then whatever SpiffWorkflow's parser still refuses.
    problems = _table_shape_problems(tables[0]) or check_decision_code(root)
    if not problems:
        problems = [p for p in (_engine_problem(root, decision),) if p]
    return TableCheck(root, problems)


__all__ = ["HIT_POLICIES", "TableCheck", "check_decision_table"]
