"""What the modeler shows of decision tables: a version's or a draft's tables, and what changed
between two sets of them (which tables; rule rows added, removed or changed; hit policy and
columns). Rules are matched by their id, which dmn-js keeps while a row is edited or moved."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from .. import conf
from ..engine.parser import DiagramError, load_dmn_xml, load_xml
from ..models import ProcessDefinition, ProcessDraft
from ..services.decisions import decision_files, decision_refs, frozen_decisions


def version_tables(definition: ProcessDefinition) -> dict[str, str]:
    """The tables a version runs (one deployed before tables were frozen: DMN_DIRS')."""
    if definition.decisions:
        return dict(definition.decisions)
    return _file_tables(definition.bpmn_xml)


def draft_tables(
    draft: ProcessDraft, bpmn_xml: str | None = None, decisions: dict | None = None
) -> dict[str, str]:
    """The tables the draft (or the diagram and tables being edited) would be deployed with."""
    content = (draft.bpmn_xml if bpmn_xml is None else bpmn_xml).encode()
    given = draft.decisions if decisions is None else decisions
    given = {d: x for d, x in given.items() if isinstance(x, str)}
    root = _root(content)
    if root is None:
        return given
    latest = ProcessDefinition.objects.filter(key=draft.procedure.key).order_by("-version").first()
    return frozen_decisions(root, given, latest)


def _root(content: bytes):
    try:
        return load_xml(content, max_bytes=max(len(content), conf.get("MAX_BPMN_BYTES")))
    except DiagramError:
        return None


def _file_tables(bpmn_xml: str) -> dict[str, str]:
    root = _root(bpmn_xml.encode())
    texts = decision_files().texts
    return {r: texts[r] for r in decision_refs(root) if r in texts} if root is not None else {}


@dataclass(frozen=True)
class RuleRow:
    id: str
    row: int  # 1-based, as the table shows it
    cells: tuple[str, ...]  # input entries, then output entries, then its description if any

    def as_dict(self) -> dict:
        return {"id": self.id, "row": self.row, "cells": list(self.cells)}


@dataclass
class Table:
    name: str = ""
    hit_policy: str = "UNIQUE"
    columns: tuple[str, ...] = ()
    rules: dict[str, RuleRow] = field(default_factory=dict)
    readable: bool = True


@dataclass
class TableChange:
    decision: str
    name: str
    status: str  # added | removed | changed
    hit_policy: tuple[str, str] | None = None
    columns: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    rules_added: list[RuleRow] = field(default_factory=list)
    rules_removed: list[RuleRow] = field(default_factory=list)
    rules_changed: list[tuple[RuleRow, RuleRow]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "decision": self.decision,
            "name": self.name,
            "status": self.status,
            "hit_policy": list(self.hit_policy) if self.hit_policy else None,
            "columns": [list(c) for c in self.columns] if self.columns else None,
            "rules_added": [r.as_dict() for r in self.rules_added],
            "rules_removed": [r.as_dict() for r in self.rules_removed],
            "rules_changed": [
                {"id": a.id, "row": b.row, "before": list(a.cells), "after": list(b.cells)}
                for a, b in self.rules_changed
            ],
        }


def _local(node) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _text(node) -> str:
    found = [c for c in node if _local(c) == "text"]
    return " ".join((found[0].text or "").split()) if found else ""


def _table(xml: str) -> Table:
    content = xml.encode("utf-8")
    try:
        root = load_dmn_xml(content, max_bytes=max(len(content), conf.get("MAX_BPMN_BYTES")))
    except DiagramError:
        return Table(readable=False)
    decision = next((n for n in root if _local(n) == "decision"), None)
    node = (
        next((n for n in decision if _local(n) == "decisionTable"), None)
        if decision is not None
        else None
    )
    if node is None:
        return Table(name=decision.get("name", "") if decision is not None else "")
    columns, rules = [], {}
    for child in node:
        kind = _local(child)
        if kind == "input":
            expression = next((c for c in child if _local(c) == "inputExpression"), None)
            code = _text(expression) if expression is not None else ""
            columns.append(f"{child.get('label') or '-'}: {code}")
        elif kind == "output":
            columns.append(f"→ {child.get('label') or child.get('name') or '-'}")
        elif kind == "rule":
            entries = [c for c in child if _local(c) in ("inputEntry", "outputEntry")]
            description = next((c.text or "" for c in child if _local(c) == "description"), "")
            cells = tuple(_text(e) or "-" for e in entries)
            cells += (description.strip(),) if description.strip() else ()
            rule_id = child.get("id") or f"row {len(rules) + 1}"
            rules[rule_id] = RuleRow(rule_id, len(rules) + 1, cells)
    return Table(
        name=decision.get("name", ""),
        hit_policy=(node.get("hitPolicy") or "UNIQUE").upper(),
        columns=tuple(columns),
        rules=rules,
    )


@dataclass(frozen=True)
class TableRow:
    decision: str
    name: str
    hit_policy: str
    rules: int


def table_rows(tables: dict[str, str]) -> list[TableRow]:
    """One line per table, for the list beside the diagram."""
    rows = []
    for decision, xml in sorted(tables.items()):
        table = _table(xml)
        rows.append(TableRow(decision, table.name, table.hit_policy, len(table.rules)))
    return rows


def table_changes(before: dict[str, str], after: dict[str, str]) -> list[TableChange]:
    """What changed from one set of tables (decision id → DMN XML) to another, by decision."""
    changes = []
    for decision in sorted(set(before) | set(after)):
        old, new = before.get(decision), after.get(decision)
        if old == new:
            continue
        if old is None or new is None:
            table = _table(new if old is None else old)
            status = "added" if old is None else "removed"
            rows = list(table.rules.values())
            change = TableChange(decision, table.name, status)
            (change.rules_added if old is None else change.rules_removed).extend(rows)
            changes.append(change)
            continue
        a, b = _table(old), _table(new)
        change = TableChange(decision, b.name or a.name, "changed")
        if a.hit_policy != b.hit_policy:
            change.hit_policy = (a.hit_policy, b.hit_policy)
        if a.columns != b.columns:
            change.columns = (a.columns, b.columns)
        change.rules_added = [r for i, r in b.rules.items() if i not in a.rules]
        change.rules_removed = [r for i, r in a.rules.items() if i not in b.rules]
        change.rules_changed = [
            (a.rules[i], r)
            for i, r in b.rules.items()
            if i in a.rules and a.rules[i].cells != r.cells
        ]
        changes.append(change)
    return changes


def draft_table_changes(draft: ProcessDraft, tables: dict[str, str]) -> list[TableChange]:
    """What the draft's tables change against the latest version."""
    latest = ProcessDefinition.objects.filter(key=draft.procedure.key).order_by("-version").first()
    return table_changes(version_tables(latest) if latest else {}, tables)
