"""Deploying diagrams: validate everything, then version by content."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from .. import conf, extensions
from ..engine.parser import NSMAP, DiagramError, decision_ids, load_dmn_xml, load_xml
from ..engine.runtime import DefinitionRuntime
from ..engine.validation import (
    EngineCheck,
    check_decision_code,
    check_diagram,
    missing_called_elements,
)
from ..exceptions import DeploymentRefused, NotAllowed, Problem
from ..forms import form_name, form_schema
from ..models import AuditKind, Procedure, ProcessDefinition
from .audit import audit_append_system
from .deploy_checks import called_definitions, host_problems, record_problems, start_role_problems
from .handlers import run_handler
from .procedures import is_process_owner, procedure_ensure, require_change_procedure
from .starting import definition_grant_start


@dataclass(frozen=True)
class Deployment:
    definition: ProcessDefinition
    created: bool
    warnings: tuple[Problem, ...] = ()  # what the rules only warn about (engine/rules.py)


@dataclass
class DecisionFiles:
    """The DMN decision tables of ``DMN_DIRS`` (one decision per file, as SpiffWorkflow runs)."""

    roots: dict = dataclasses.field(default_factory=dict)  # file name → parsed root
    by_decision: dict[str, str] = dataclasses.field(default_factory=dict)  # decision id → file name
    digests: dict[str, str] = dataclasses.field(
        default_factory=dict
    )  # decision id → sha256 of its file
    unusable: dict[str, str] = dataclasses.field(default_factory=dict)  # file name → why not


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
                files.digests[ids[0]] = hashlib.sha256(content).hexdigest()
    return files


def _decision_problems(check: EngineCheck, files: DecisionFiles) -> list[Problem]:
    """Each business rule task names a decision table that exists and runs in the sandbox."""
    known = ", ".join(sorted(files.by_decision)) or "none"
    broken = "".join(f"; {name} cannot be used: {why}" for name, why in files.unusable.items())
    problems, checked = [], set()
    for task in check.decision_tasks:
        name = files.by_decision.get(task.decision)
        if name is None:
            what = (
                f"names decision '{task.decision}', which is not a decision table"
                if task.decision
                else "names no decision: set its decision reference (camunda:decisionRef)"
            )
            problems.append(
                Problem(
                    f"this business rule task {what} (decision tables: {known}{broken})",
                    task.element,
                    task.line,
                )
            )
        elif name not in checked:
            checked.add(name)
            problems += [
                Problem(f"decision table {p.message} ({p.element})", task.element, task.line)
                for p in check_decision_code(files.roots[name], name=name)
            ]
    return problems


def _stored_root(definition: ProcessDefinition):
    """A deployed diagram's XML (checked when it was deployed; a lower size limit since then
    must not make it unreadable)."""
    content = definition.bpmn_xml.encode()
    return load_xml(content, max_bytes=max(len(content), conf.get("MAX_BPMN_BYTES")))


def definition_check(
    *, content: bytes, forms: frozenset[str] = frozenset(), deployed: bool = True
) -> tuple[EngineCheck | None, list[Problem], list]:
    """Every problem of a diagram, without deploying it. Returns (check, problems, dependencies).

    ``forms``: names of forms that exist besides FORM_DIRS (a draft's, an earlier version's).
    ``deployed=False`` reads no table: the called processes and the forms of earlier versions
    are not looked up (the system check runs before ``migrate`` has created any table)."""
    try:
        root = load_xml(content, max_bytes=conf.get("MAX_BPMN_BYTES"))
    except DiagramError as exc:
        return None, [Problem(exc.message, exc.element, exc.line)], []
    missing = missing_called_elements(root) if deployed else []
    called, problems = called_definitions(root, missing)
    decisions = decision_files()
    check = check_diagram(
        root, extra_roots=[_stored_root(d) for d in called], decisions=decisions.roots
    )
    problems += [Problem(p.message, p.element, p.line) for p in check.problems]
    if check.parsed is not None and deployed:
        forms = forms | _deployed_form_names(check.parsed.key)
    problems += host_problems(check, forms) + record_problems(check) + start_role_problems(root)
    problems += _decision_problems(check, decisions)
    # Listed top to bottom, as the file reads; problems of the whole file first.
    unique = sorted(dict.fromkeys(problems), key=lambda p: p.line or 0)
    return check, unique, called


def _deployed_form_names(key: str) -> frozenset[str]:
    latest = ProcessDefinition.objects.filter(key=key).order_by("-version").first()
    return frozenset(latest.forms) if latest is not None else frozenset()


def _frozen_forms(root, given: dict[str, dict], previous: ProcessDefinition | None) -> dict:
    """The schemas of the forms the diagram names, as they will be deployed with it: the one
    given (a draft's), else as the previous version deployed it, else the ``.form`` file."""
    frozen = {}
    for key in sorted(set(root.xpath("//@camunda:formKey", namespaces=NSMAP))):
        name = form_name(key)
        schema = given.get(name)
        if schema is None and previous is not None:
            schema = previous.forms.get(name)
        if schema is None:
            schema = form_schema(key)
        if schema is not None:
            frozen[name] = schema
    return frozen


def diagram_key(content: bytes) -> str:
    """The process id a diagram deploys as ('' when it cannot be read)."""
    try:
        root = load_xml(content, max_bytes=conf.get("MAX_BPMN_BYTES"))
    except DiagramError:
        return ""
    ids = root.xpath("./bpmn:process[@isExecutable='true']/@id", namespaces=NSMAP) or root.xpath(
        "./bpmn:process/@id", namespaces=NSMAP
    )
    return ids[0] if ids else ""


def called_processes(content: bytes) -> list[str]:
    """The processes a diagram's call activities call that it does not hold itself ([] when it
    cannot be read: that is the diagram's own problem, reported by ``definition_check``)."""
    try:
        root = load_xml(content, max_bytes=conf.get("MAX_BPMN_BYTES"))
    except DiagramError:
        return []
    return missing_called_elements(root)


def file_forms(content: bytes) -> dict[str, dict]:
    """The ``.form`` files (FORM_DIRS) of the forms a diagram names, by form name."""
    try:
        root = load_xml(content, max_bytes=conf.get("MAX_BPMN_BYTES"))
    except DiagramError:
        return {}
    keys = set(root.xpath("//@camunda:formKey", namespaces=NSMAP))
    return {form_name(k): schema for k in keys if (schema := form_schema(k)) is not None}


def definition_deploy(
    *, content: bytes, user, comment: str = "", forms: dict[str, dict] | None = None
) -> Deployment:
    """Validate and deploy, with the forms it names frozen beside it (``forms``: schemas by form
    name that take precedence, a draft's). Same diagram and forms as the latest version:
    nothing new. Refuses with every problem listed (DeploymentRefused), or NotAllowed for a user
    who may not change the procedure (see services/procedures.py)."""
    if user is not None and not is_process_owner(user):
        raise NotAllowed(_("only process owners may deploy diagrams"))
    forms = forms or {}
    check, problems, dependencies = definition_check(content=content, forms=frozenset(forms))
    if problems or check is None or check.parsed is None:
        refused = problems or [Problem(_("the diagram could not be read"))]
        raise DeploymentRefused(problems=refused)
    parsed = check.parsed
    require_change_procedure(user, Procedure.objects.filter(key=parsed.key).first())
    digest = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        # Lock the key's rows so two deploys of a new version cannot both take the same number.
        latest = (
            ProcessDefinition.objects.select_for_update()
            .filter(key=parsed.key)
            .order_by("-version")
            .first()
        )
        frozen = _frozen_forms(parsed.root, forms, latest)
        procedure_ensure(key=parsed.key, name=parsed.name, owner=user)
        if latest is not None and latest.sha256 == digest and latest.forms in ({}, frozen):
            definition_grant_start(latest)  # idempotent; versions deployed before the rule
            return Deployment(latest, created=False, warnings=_warnings(check))
        version = (
            ProcessDefinition.objects.filter(key=parsed.key).aggregate(v=Max("version"))["v"] or 0
        ) + 1
        definition = ProcessDefinition.objects.create(
            key=parsed.key,
            version=version,
            name=parsed.name,
            bpmn_xml=content.decode("utf-8"),
            sha256=digest,
            deployed_by=user,
            dependencies=[d.pk for d in dependencies],
            comment=comment.strip(),
            forms=frozen,
        )
        payload = {
            "key": definition.key,
            "version": version,
            "sha256": digest,
            "name": definition.name,
        }
        if comment.strip():
            payload["comment"] = comment.strip()
        if frozen:
            payload["forms"] = {name: _schema_digest(schema) for name, schema in frozen.items()}
        if check.decision_tasks:
            # Decision tables are read from DMN_DIRS (like forms); record which ones were there.
            digests = decision_files().digests
            payload["decisions"] = {
                t.decision: digests.get(t.decision, "") for t in check.decision_tasks
            }
        audit_append_system(actor=user, kind=AuditKind.DEFINITION_DEPLOYED, payload=payload)
        _schedule_automatic_starts(definition)
        definition_grant_start(definition)
    return Deployment(definition, created=True, warnings=_warnings(check))


def _warnings(check: EngineCheck) -> tuple[Problem, ...]:
    return tuple(Problem(w.message, w.element, w.line) for w in check.warnings)


def _schema_digest(schema: dict) -> str:
    blob = json.dumps(schema, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def _schedule_automatic_starts(definition: ProcessDefinition) -> None:
    """Timer and message start events start instances of the newest version."""
    from django.utils import timezone

    from .messages import schedule_message_starts
    from .timers import schedule_start_timers

    schedule_start_timers(definition, now=timezone.now())
    schedule_message_starts(definition)


def runtime_for(definition: ProcessDefinition) -> DefinitionRuntime:
    """The parsed, ready-to-run form of a definition (cached: definitions never change)."""
    return _runtime(definition.pk, definition.sha256)


@lru_cache(maxsize=256)
def _runtime(definition_id: int, sha256: str) -> DefinitionRuntime:
    from ..engine.parser import parse_diagram

    definition = ProcessDefinition.objects.get(pk=definition_id)
    max_bytes = conf.get("MAX_BPMN_BYTES")
    root = load_xml(definition.bpmn_xml.encode(), max_bytes=max_bytes)
    extra = [
        load_xml(d.bpmn_xml.encode(), max_bytes=max_bytes)
        for d in ProcessDefinition.objects.filter(pk__in=definition.dependencies)
    ]
    return DefinitionRuntime(
        parse_diagram(
            root,
            extra_roots=extra,
            async_topics=extensions.async_topics(),
            decisions=decision_files().roots,
        ),
        handler_runner=run_handler,
        time_limit=conf.get("SCRIPT_TIME_LIMIT_SECONDS"),
    )
