"""A procedure's draft: changed in the modeler, checked, saved without deploying, then deployed.

One draft per procedure, shared by its owners. Every save names the revision it was edited
from; a save from an older revision is refused (Conflict, saying who saved since), so two owners
editing at once never overwrite each other. A draft is checked with the same checks as deploy.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from .. import conf
from ..engine.parser import DiagramError, load_dmn_xml, load_xml
from ..exceptions import Conflict, InvalidInput, NotAllowed, NotFound, Problem
from ..models import Procedure, ProcessDefinition, ProcessDraft
from ..people import person_name
from .decisions import file_decisions
from .definitions import Deployment, definition_check, definition_deploy, diagram_key, file_forms
from .procedures import is_process_owner, procedure_ensure, require_change_procedure

KEY_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
FORM_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
MAX_FORM_BYTES = 512 * 1024
# A decision id as DMN allows it for our purposes (an XML id: no spaces, no markup).
DECISION_ID_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,199}$")
MAX_DECISIONS = 50

# A new procedure starts as: start → one step in the township's lane → end (placeholders
# {key} and {name}, filled with str.format).
STARTER_DIAGRAM = (Path(__file__).parent / "starter_diagram.bpmn").read_text(encoding="utf-8")


@dataclass(frozen=True)
class DraftCheck:
    problems: list[Problem]
    form_problems: dict[str, list[str]]  # form name → what is wrong with it
    warnings: list[Problem] = field(default_factory=list)  # the rules' warnings

    @property
    def ok(self) -> bool:
        return not self.problems and not self.form_problems


def _require_owner(user) -> None:
    if not is_process_owner(user):
        raise NotAllowed(gettext("Only process owners may open the modeler."))


def _procedure(key: str) -> Procedure:
    procedure = Procedure.objects.filter(key=key).first()
    if procedure is not None:
        return procedure
    latest = ProcessDefinition.objects.filter(key=key).order_by("-version").first()
    if latest is None:
        raise NotFound(gettext("There is no procedure “%(key)s”.") % {"key": key})
    # Deployed before procedures had owners: it belongs to every process owner.
    return procedure_ensure(key=key, name=latest.name)


def draft_open(*, key: str, user) -> ProcessDraft:
    """The procedure's draft; the first time, a copy of its latest version (with its forms)."""
    _require_owner(user)
    procedure = _procedure(key)
    draft = ProcessDraft.objects.filter(procedure=procedure).select_related("updated_by").first()
    if draft is not None:
        return draft
    latest = ProcessDefinition.objects.filter(key=key).order_by("-version").first()
    if latest is None:
        raise NotFound(
            gettext("The procedure “%(key)s” has neither a draft nor a deployed version.")
            % {"key": key}
        )
    forms = dict(latest.forms) or file_forms(latest.bpmn_xml.encode())
    decisions = dict(latest.decisions) or file_decisions(latest.bpmn_xml.encode())
    draft, _ = ProcessDraft.objects.get_or_create(
        procedure=procedure,
        defaults={
            "bpmn_xml": latest.bpmn_xml,
            "forms": forms,
            "decisions": decisions,
            "based_on": latest,
        },
    )
    return draft


def procedure_create(*, key: str, name: str, user, bpmn_xml: str = "") -> ProcessDraft:
    """A new procedure, its draft a starter diagram (or the uploaded ``bpmn_xml``), owned by
    ``user``. Nothing is deployed."""
    _require_owner(user)
    key, name = key.strip(), name.strip()
    errors: dict[str, list[str]] = {}
    if not KEY_PATTERN.match(key) or len(key) > 200:
        errors["key"] = [
            gettext(
                "Use letters, digits and _ . - (starting with a letter or _), at most 200 "
                "characters."
            )
        ]
    elif Procedure.objects.filter(key=key).exists() or (
        ProcessDefinition.objects.filter(key=key).exists()
    ):
        errors["key"] = [
            gettext("A procedure “%(key)s” exists already: open it instead.") % {"key": key}
        ]
    if not name and not bpmn_xml:
        errors["name"] = [gettext("Give the procedure a name, as people will see it.")]
    if errors:
        listed = "; ".join(f"{field}: {' '.join(m)}" for field, m in errors.items())
        raise InvalidInput(
            gettext("The procedure was not created: %(problems)s") % {"problems": listed}, errors
        )
    content = bpmn_xml or STARTER_DIAGRAM.format(key=key, name=_xml_text(name))
    _require_readable(content, key=key)
    with transaction.atomic():
        procedure = procedure_ensure(key=key, name=name or key, owner=user)
        return ProcessDraft.objects.create(
            procedure=procedure, bpmn_xml=content, forms={}, updated_by=user
        )


def _xml_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "'")


def _require_readable(content: str, *, key: str) -> None:
    """A diagram that can be stored as this procedure's draft: well-formed, safe XML, one
    process with the procedure's key. Everything else is a check problem, not a refusal."""
    try:
        load_xml(content.encode(), max_bytes=conf.get("MAX_BPMN_BYTES"))
    except DiagramError as exc:
        raise InvalidInput(
            _at_line(gettext("The diagram is not valid BPMN XML"), exc.line, exc.message),
            {"bpmn_xml": [exc.message]},
        ) from None
    found = diagram_key(content.encode())
    if found != key:
        raise InvalidInput(
            gettext(
                "The diagram's process id is “%(found)s”, but this is the procedure “%(key)s”: "
                "keep the process id (a new id is a new procedure)."
            )
            % {"found": found, "key": key},
            {
                "bpmn_xml": [
                    gettext("The process id “%(found)s” is not “%(key)s”.")
                    % {"found": found, "key": key}
                ]
            },
        )


def _require_forms(forms) -> dict[str, dict]:
    if not isinstance(forms, dict):
        raise InvalidInput(gettext("forms must be an object of form name → form-js schema."))
    errors = {}
    for name, schema in forms.items():
        if not FORM_NAME_PATTERN.match(str(name)):
            errors[f"forms.{name}"] = ["a form name uses letters, digits, _ and - only"]
        elif not isinstance(schema, dict) or not isinstance(schema.get("components"), list):
            errors[f"forms.{name}"] = ["not a form-js schema (it needs a list of components)"]
        elif len(json.dumps(schema, ensure_ascii=False).encode()) > MAX_FORM_BYTES:
            errors[f"forms.{name}"] = [f"the form is larger than {MAX_FORM_BYTES:,} bytes"]
    if errors:
        raise InvalidInput(gettext("The draft's forms were not saved."), errors)
    return forms


def _require_decisions(decisions) -> dict[str, str]:
    """Decision tables a draft can hold: by decision id, each readable, safe DMN XML within the
    size limit. What else is wrong with a table is a check problem (with its line)."""
    if not isinstance(decisions, dict):
        raise InvalidInput(gettext("decisions must be an object of decision id → DMN XML."))
    if len(decisions) > MAX_DECISIONS:
        raise InvalidInput(
            gettext("A draft holds at most %(n)s decision tables.") % {"n": MAX_DECISIONS}
        )
    errors = {}
    for decision, xml in decisions.items():
        field = f"decisions.{decision}"
        if not DECISION_ID_PATTERN.match(str(decision)):
            errors[field] = [gettext("A decision id uses letters, digits and _ . - (at most 200).")]
        elif not isinstance(xml, str):
            errors[field] = [gettext("Send the table as DMN XML text.")]
        else:
            try:
                load_dmn_xml(xml.encode("utf-8"), max_bytes=conf.get("MAX_BPMN_BYTES"))
            except DiagramError as exc:
                errors[field] = [
                    _at_line(gettext("Not a readable decision table"), exc.line, exc.message)
                ]
    if errors:
        listed = "; ".join(f"{field}: {' '.join(m)}" for field, m in errors.items())
        raise InvalidInput(
            gettext("The draft's decision tables were not saved: %(problems)s")
            % {"problems": listed},
            errors,
        )
    return decisions


def draft_save(
    *,
    key: str,
    user,
    bpmn_xml: str,
    forms: dict | None,
    revision: int,
    decisions: dict | None = None,
) -> ProcessDraft:
    """Save the draft edited from ``revision``; Conflict if somebody saved after it.
    ``forms``/``decisions`` None: kept as they are."""
    _require_owner(user)
    procedure = _procedure(key)
    require_change_procedure(user, procedure)
    if not isinstance(bpmn_xml, str) or not bpmn_xml.strip():
        raise InvalidInput(
            gettext("The draft has no diagram."), {"bpmn_xml": [gettext("This field is required.")]}
        )
    _require_readable(bpmn_xml, key=key)
    if decisions is not None:
        decisions = _require_decisions(decisions)
    with transaction.atomic():
        draft_open(key=key, user=user)
        draft = ProcessDraft.objects.select_for_update().get(procedure=procedure)
        if draft.revision != revision:
            raise Conflict(_stale(draft, revision))
        draft.bpmn_xml = bpmn_xml
        if forms is not None:
            draft.forms = _require_forms(forms)
        if decisions is not None:
            draft.decisions = decisions
        draft.revision += 1
        draft.updated_by, draft.updated_at = user, timezone.now()
        draft.save()
    return draft


def _stale(draft: ProcessDraft, revision: int) -> str:
    who = person_name(draft.updated_by) if draft.updated_by else gettext("somebody")
    when = timezone.localtime(draft.updated_at).strftime("%Y-%m-%d %H:%M")
    return gettext(
        "%(who)s saved this draft at %(when)s (revision %(revision)s) after you opened "
        "revision %(yours)s: nothing of yours was overwritten — reload the draft, then make "
        "your change again."
    ) % {"who": who, "when": when, "revision": draft.revision, "yours": revision}


def _at_line(what: str, line: int | None, detail: str) -> str:
    if line:
        return gettext("%(what)s (line %(line)s): %(detail)s") % {
            "what": what,
            "line": line,
            "detail": detail,
        }
    return gettext("%(what)s: %(detail)s") % {"what": what, "detail": detail}


def draft_check(
    *, key: str, user, bpmn_xml: str | None = None, forms=None, decisions=None
) -> DraftCheck:
    """Every problem deploy would refuse, for the draft (or the diagram and tables being
    edited)."""
    draft = draft_open(key=key, user=user)
    content = draft.bpmn_xml if bpmn_xml is None else bpmn_xml
    forms = draft.forms if forms is None else forms
    decisions = draft.decisions if decisions is None else decisions
    form_problems: dict[str, list[str]] = {}
    try:
        forms = _require_forms(forms)
    except InvalidInput as invalid:
        form_problems = {k.removeprefix("forms."): v for k, v in invalid.fields.items()}
        forms = {}
    unreadable: list[Problem] = []
    try:
        decisions = _require_decisions(decisions)
    except InvalidInput as invalid:
        unreadable = [
            Problem(
                gettext("Decision table “%(decision)s”: %(problem)s")
                % {"decision": d, "problem": " ".join(m)},
                decision=d,
            )
            for d, m in ((f.removeprefix("decisions."), m) for f, m in invalid.fields.items())
        ] or [Problem(invalid.message)]
        decisions = {}
    check, problems, _ = definition_check(
        content=content.encode(), forms=frozenset(forms), decisions=decisions
    )
    problems = unreadable + problems
    warnings = [Problem(w.message, w.element, w.line) for w in check.warnings] if check else []
    found = diagram_key(content.encode())
    if found and found != key:
        problems = [
            Problem(gettext("The process id must stay “%(key)s”.") % {"key": key}, found),
            *problems,
        ]
    return DraftCheck(problems, form_problems, warnings)


def draft_deploy(*, key: str, user, revision: int, comment: str = "") -> Deployment:
    """Deploy the draft as it is at ``revision`` (what its deployer saw), with its forms."""
    _require_owner(user)
    procedure = _procedure(key)
    require_change_procedure(user, procedure)
    if not comment.strip():
        raise InvalidInput(
            gettext("Say why this version is deployed."),
            {"comment": [gettext("This field is required.")]},
        )
    with transaction.atomic():
        draft = ProcessDraft.objects.select_for_update().filter(procedure=procedure).first()
        if draft is None:
            raise NotFound(
                gettext("The procedure “%(key)s” has no draft to deploy.") % {"key": key}
            )
        if draft.revision != revision:
            raise Conflict(_stale(draft, revision))
        deployment = definition_deploy(
            content=draft.bpmn_xml.encode(),
            user=user,
            comment=comment,
            forms=draft.forms,
            decisions=draft.decisions,
        )
        draft.based_on = deployment.definition
        draft.save(update_fields=["based_on"])
    return deployment


def draft_discard(*, key: str, user) -> None:
    """Throw the draft away; the next open starts again from the latest version."""
    _require_owner(user)
    procedure = _procedure(key)
    require_change_procedure(user, procedure)
    if not ProcessDefinition.objects.filter(key=key).exists():
        raise Conflict(gettext("A procedure that was never deployed has only its draft: keep it."))
    ProcessDraft.objects.filter(procedure=procedure).delete()
