"""Decision tables (DMN) deployed with the diagram that uses them.

A definition version freezes the XML of every decision its business rule tasks name
(``ProcessDefinition.decisions``, decision id → DMN XML), like its forms: a case evaluates the
table of the version it started on, whatever happens to the file or to later versions. Where a
table comes from when a version is deployed: the one given (the modeler's draft, an upload, the
pack's file for ``deploy_processes``), else as the previous version froze it, else ``DMN_DIRS``.
Versions deployed before tables were frozen have none and read ``DMN_DIRS``.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext

from .. import conf
from ..engine.decisions import check_decision_table
from ..engine.parser import NSMAP, DiagramError, decision_ids, load_dmn_xml, load_xml
from ..engine.validation import EngineCheck
from ..exceptions import DeploymentRefused, Problem
from ..models import ProcessDefinition


@dataclass
class DecisionFiles:
    """The DMN decision tables of ``DMN_DIRS`` (one decision per file, as SpiffWorkflow runs)."""

    roots: dict = dataclasses.field(default_factory=dict)  # file name → parsed root
    by_decision: dict[str, str] = dataclasses.field(default_factory=dict)  # decision id → file name
    texts: dict[str, str] = dataclasses.field(default_factory=dict)  # decision id → its XML
    unusable: dict[str, str] = dataclasses.field(default_factory=dict)  # file name → why not
    paths: dict[str, Path] = dataclasses.field(default_factory=dict)  # decision id → its file


def decision_files() -> DecisionFiles:
    """Read the decision tables; a file that cannot be used is listed with the reason."""
    files = DecisionFiles()
    for directory in conf.dmn_dirs():
        for path in sorted(Path(directory).glob("*.dmn")):
            content = path.read_bytes()
            try:
                root = load_dmn_xml(content, max_bytes=conf.get("MAX_BPMN_BYTES"))
            except DiagramError as exc:
                files.unusable[path.name] = exc.message
                continue
            ids = decision_ids(root)
            if len(ids) != 1:
                files.unusable[path.name] = f"it holds {len(ids)} decisions; put one per file"
            elif ids[0] in files.by_decision:
                files.unusable[path.name] = (
                    f"decision '{ids[0]}' is also in {files.by_decision[ids[0]]}"
                )
            else:
                files.roots[path.name] = root
                files.by_decision[ids[0]] = path.name
                files.texts[ids[0]] = content.decode("utf-8")
                files.paths[ids[0]] = path
    return files


def decision_refs(root) -> list[str]:
    """The decisions a diagram's business rule tasks name, once each, sorted."""
    refs = root.xpath(".//bpmn:businessRuleTask/@camunda:decisionRef", namespaces=NSMAP)
    return sorted({r.strip() for r in refs if r.strip()})


def file_decisions(content: bytes) -> dict[str, str]:
    """The ``DMN_DIRS`` tables of the decisions a diagram names (the pack's files are the
    source when ``deploy_processes`` deploys); {} for a diagram that cannot be read."""
    try:
        root = load_xml(content, max_bytes=conf.get("MAX_BPMN_BYTES"))
    except DiagramError:
        return {}
    texts = decision_files().texts
    return {ref: texts[ref] for ref in decision_refs(root) if ref in texts}


def frozen_decisions(
    root, given: dict[str, str], previous: ProcessDefinition | None
) -> dict[str, str]:
    """The tables the diagram's decisions will be deployed with (see the module's doc)."""
    frozen, texts = {}, None
    for ref in decision_refs(root):
        text = given.get(ref)
        if text is None and previous is not None:
            text = previous.decisions.get(ref)
        if text is None:
            texts = decision_files().texts if texts is None else texts
            text = texts.get(ref)
        if text is not None:
            frozen[ref] = text
    return frozen


def reference_problems(
    check: EngineCheck, tables: dict[str, str], offered: dict[str, str]
) -> list[Problem]:
    """Each business rule task names a decision there is a table of (``offered``: the tables
    given besides DMN_DIRS, listed in the problem as the ones to choose from)."""
    problems: list[Problem] = []
    files = decision_files()
    known = "、".join(sorted(set(tables) | set(offered) | set(files.by_decision)))
    known = known or gettext("none")
    broken = "".join(
        gettext("; %(file)s cannot be used: %(why)s") % {"file": name, "why": why}
        for name, why in files.unusable.items()
    )
    for task in check.decision_tasks:
        if task.decision in tables:
            continue
        if task.decision:
            message = gettext(
                "This business rule task names the decision “%(decision)s”, which is not a "
                "decision table (decision tables: %(known)s%(broken)s)."
            ) % {"decision": task.decision, "known": known, "broken": broken}
        else:
            message = gettext(
                "This business rule task names no decision: set its decision reference "
                "(camunda:decisionRef) (decision tables: %(known)s%(broken)s)."
            ) % {"known": known, "broken": broken}
        problems.append(Problem(message, task.element, task.line))
    return problems


def table_problems(tables: dict[str, str]) -> list[Problem]:
    """Each table can be read and run: its problems name the decision, the DMN element and the
    line in the table's XML."""
    problems: list[Problem] = []
    for decision, text in sorted(tables.items()):
        content = text.encode("utf-8")
        limit = conf.get("MAX_BPMN_BYTES")
        checked = check_decision_table(content, decision=decision, max_bytes=limit)
        problems += [
            Problem(
                gettext("Decision table “%(decision)s”, line %(line)s: %(problem)s")
                % {"decision": decision, "line": p.line or "-", "problem": p.message},
                p.element,
                p.line,
                decision=decision,
            )
            for p in checked.problems
        ]
    return problems


def decision_roots(tables: dict[str, str]) -> dict:
    """Parsed tables by file name, as the engine's parser takes them. A frozen table was checked
    when it was deployed: a lower size limit since then must not make it unreadable."""
    limit = conf.get("MAX_BPMN_BYTES")
    roots = {}
    for decision, text in sorted(tables.items()):
        content = text.encode("utf-8")
        roots[f"{decision}.dmn"] = load_dmn_xml(content, max_bytes=max(len(content), limit))
    return roots


def definition_decision_roots(definition: ProcessDefinition) -> dict:
    """The tables a version runs: its own, or (deployed before they were frozen) DMN_DIRS."""
    if definition.decisions:
        return decision_roots(definition.decisions)
    return decision_files().roots


def table_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_digest(content: bytes, tables: dict[str, str]) -> str:
    """A version's content hash: the diagram's bytes and, when it has any, its tables (so a
    changed table alone is a new version). Without tables it is the diagram's sha256, as
    before tables were frozen."""
    digest = hashlib.sha256(content)
    for decision, text in sorted(tables.items()):
        digest.update(b"\n\x00dmn:" + decision.encode("utf-8") + b"\n" + text.encode("utf-8"))
    return digest.hexdigest()


def uploaded_decisions(files: list[tuple[str, bytes]]) -> dict[str, str]:
    """Uploaded ``.dmn`` files (name, bytes) by the decision each holds; DeploymentRefused names
    the file that cannot be read or holds no single decision."""
    limit = conf.get("MAX_BPMN_BYTES")
    tables: dict[str, str] = {}
    problems: list[Problem] = []
    for name, content in files:
        try:
            root = load_dmn_xml(content, max_bytes=limit)
        except DiagramError as exc:
            problems.append(Problem(f"{name}: {exc.message}", exc.element, exc.line))
            continue
        ids = decision_ids(root)
        if len(ids) != 1:
            problems.append(
                Problem(
                    gettext("%(file)s holds %(n)s decisions: put exactly one per file.")
                    % {"file": name, "n": len(ids)}
                )
            )
        elif ids[0] in tables:
            problems.append(
                Problem(
                    gettext("%(file)s: the decision “%(decision)s” is uploaded twice.")
                    % {"file": name, "decision": ids[0]}
                )
            )
        else:
            tables[ids[0]] = content.decode("utf-8")
    if problems:
        raise DeploymentRefused(problems=problems)
    return tables
