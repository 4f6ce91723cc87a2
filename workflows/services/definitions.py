"""Deploying diagrams: validate everything, then version by content."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from .. import conf
from ..engine.parser import NSMAP, DiagramError, load_xml
from ..engine.validation import (
    EngineCheck,
    check_diagram,
    missing_called_elements,
)
from ..exceptions import DeploymentRefused, NotAllowed, Problem
from ..forms import form_name, form_schema
from ..models import AuditKind, Procedure, ProcessDefinition
from .audit import audit_append_system
from .decisions import (
    content_digest,
    decision_refs,
    decision_roots,
    frozen_decisions,
    reference_problems,
    table_digest,
    table_problems,
)
from .deploy_checks import called_definitions, host_problems, record_problems, start_role_problems
from .procedures import is_process_owner, procedure_ensure, require_change_procedure
from .starting import definition_grant_start


@dataclass(frozen=True)
class Deployment:
    definition: ProcessDefinition
    created: bool
    warnings: tuple[Problem, ...] = ()  # what the rules only warn about (engine/rules.py)


def _stored_root(definition: ProcessDefinition):
    """A deployed diagram's XML (checked when it was deployed; a lower size limit since then
    must not make it unreadable)."""
    content = definition.bpmn_xml.encode()
    return load_xml(content, max_bytes=max(len(content), conf.get("MAX_BPMN_BYTES")))


def definition_check(
    *,
    content: bytes,
    forms: frozenset[str] = frozenset(),
    decisions: dict[str, str] | None = None,
    deployed: bool = True,
) -> tuple[EngineCheck | None, list[Problem], list]:
    """Every problem of a diagram, without deploying it. Returns (check, problems, dependencies).

    ``forms``: names of forms that exist besides FORM_DIRS (a draft's, an earlier version's).
    ``decisions``: DMN tables by decision id that take precedence (see services/decisions.py);
    the tables the diagram would be deployed with are the ones checked.
    ``deployed=False`` reads no table: the called processes and what earlier versions froze are
    not looked up (the system check runs before ``migrate`` has created any table)."""
    try:
        root = load_xml(content, max_bytes=conf.get("MAX_BPMN_BYTES"))
    except DiagramError as exc:
        return None, [Problem(exc.message, exc.element, exc.line)], []
    missing = missing_called_elements(root) if deployed else []
    called, problems = called_definitions(root, missing)
    previous = _previous_for(root, content, decisions) if deployed else None
    tables = frozen_decisions(root, decisions or {}, previous)
    # A table with problems is left out of the parse (the engine would stop at it), so the rest
    # of the diagram is still checked.
    broken = table_problems(tables)
    usable = {d: t for d, t in tables.items() if all(p.decision != d for p in broken)}
    check = check_diagram(
        root,
        extra_roots=[_stored_root(d) for d in called],
        decisions=decision_roots(usable),
    )
    problems += [Problem(p.message, p.element, p.line) for p in check.problems]
    if check.parsed is not None and deployed:
        forms = forms | _deployed_form_names(check.parsed.key)
    problems += host_problems(check, forms) + record_problems(check) + start_role_problems(root)
    problems += reference_problems(check, tables, decisions or {}) + broken
    # Listed top to bottom, as the file reads (problems of the whole file first); then each
    # decision table's, as its file reads.
    unique = sorted(dict.fromkeys(problems), key=lambda p: (p.decision, p.line or 0))
    return check, unique, called


def _previous_for(root, content: bytes, given: dict | None) -> ProcessDefinition | None:
    """The latest version, read only when a table is not given (its frozen one is next)."""
    if all(ref in (given or {}) for ref in decision_refs(root)):
        return None
    return _latest(diagram_key(content))


def _latest(key: str) -> ProcessDefinition | None:
    if not key:
        return None
    return ProcessDefinition.objects.filter(key=key).order_by("-version").first()


def _deployed_form_names(key: str) -> frozenset[str]:
    latest = ProcessDefinition.objects.filter(key=key).order_by("-version")
    forms = latest.values_list("forms", flat=True).first()
    return frozenset(forms) if forms else frozenset()


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
    *,
    content: bytes,
    user,
    comment: str = "",
    forms: dict[str, dict] | None = None,
    decisions: dict[str, str] | None = None,
) -> Deployment:
    """Validate and deploy, with the forms and decision tables it names frozen beside it
    (``forms``: schemas by form name, ``decisions``: DMN XML by decision id, that take
    precedence: a draft's, an upload's, the pack's files). Same diagram, forms and tables as the
    latest version: nothing new. Refuses with every problem listed (DeploymentRefused), or
    NotAllowed for a user who may not change the procedure (see services/procedures.py)."""
    if user is not None and not is_process_owner(user):
        raise NotAllowed(_("only process owners may deploy diagrams"))
    forms, decisions = forms or {}, decisions or {}
    check, problems, dependencies = definition_check(
        content=content, forms=frozenset(forms), decisions=decisions
    )
    if problems or check is None or check.parsed is None:
        refused = problems or [Problem(_("the diagram could not be read"))]
        raise DeploymentRefused(problems=refused)
    parsed = check.parsed
    require_change_procedure(user, Procedure.objects.filter(key=parsed.key).first())
    checked_tables = frozen_decisions(parsed.root, decisions, _latest(parsed.key))
    with transaction.atomic():
        # Lock the key's rows so two deploys of a new version cannot both take the same number.
        latest = (
            ProcessDefinition.objects.select_for_update()
            .filter(key=parsed.key)
            .order_by("-version")
            .first()
        )
        frozen = _frozen_forms(parsed.root, forms, latest)
        tables = frozen_decisions(parsed.root, decisions, latest)
        if tables != checked_tables and (problems := table_problems(tables)):
            raise DeploymentRefused(problems=problems)  # a version deployed meanwhile
        digest = content_digest(content, tables)
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
            decisions=tables,
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
        if tables:
            payload["decisions"] = {d: table_digest(text) for d, text in tables.items()}
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
