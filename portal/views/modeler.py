"""The process owner's workbench: procedures, the modeler, versions, diffs and moving cases.

The pages are thin: the modeler talks JSON to the draft endpoints here, and every decision
(who may, what is valid, what conflicts) is the services' (workflows/services/drafts.py,
migration.py, procedures.py)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from workflows import conf
from workflows.exceptions import (
    DeploymentRefused,
    InvalidInput,
    NotAllowed,
    NotFound,
    WorkflowError,
)
from workflows.models import Procedure, ProcessInstance
from workflows.selectors.decisions import (
    draft_table_changes,
    draft_tables,
    table_changes,
    table_rows,
    version_tables,
)
from workflows.selectors.modeling import (
    element_templates,
    procedure_rows,
    procedure_version,
    procedure_versions,
    require_version_reader,
)
from workflows.services.definitions import diagram_key
from workflows.services.drafts import (
    draft_check,
    draft_deploy,
    draft_discard,
    draft_open,
    draft_save,
    procedure_create,
)
from workflows.services.migration import instance_migrate, migration_candidates
from workflows.services.procedures import (
    can_change_procedure,
    is_process_owner,
    procedure_owner_names,
)

from .common import flash_error, refused

BLOCKER_TEXT = {
    "at_removed_step": gettext_lazy("the case is at this step, which this version does not have"),
    "passed_removed_step": gettext_lazy(
        "the case passed this step, which this version does not have"
    ),
    "subprocess_removed": gettext_lazy("its running sub-process is not part of this version"),
    "incident": gettext_lazy("the case has an incident: retry it first"),
    "finished": gettext_lazy("the case has ended"),
}


# What a file that is not a diagram gets, on the new-procedure form (and in the modeler's
# upload, modeler.html): plainly that, without the parser's dump or the file's bytes.
NOT_BPMN = gettext_lazy("This is not a valid BPMN diagram (.bpmn).")


class NotBpmnFile(Exception):
    """An uploaded file that is not a BPMN diagram (not UTF-8 XML, not BPMN, no process)."""


def _blocker_text(blocker) -> str:
    text = str(BLOCKER_TEXT.get(blocker.code, blocker.reason))
    return f"{blocker.name} ({blocker.element}): {text}" if blocker.element else text


def _json_error(exc: WorkflowError) -> JsonResponse:
    body = {"error": exc.message}
    if isinstance(exc, InvalidInput) and exc.fields:
        body["fields"] = exc.fields
    if isinstance(exc, DeploymentRefused):
        body["problems"] = [p.as_dict() for p in exc.problems]
    return JsonResponse(body, status=exc.status, json_dumps_params={"ensure_ascii": False})


def _json_body(request) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError as exc:
        raise InvalidInput(f"the request is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidInput("the request must be a JSON object")
    return body


def _revision(body: dict) -> int:
    revision = body.get("revision")
    if not isinstance(revision, int) or isinstance(revision, bool):
        raise InvalidInput("name the draft revision you edited", {"revision": ["a number"]})
    return revision


def _draft_body(draft) -> dict:
    return {
        "key": draft.procedure.key,
        "name": draft.procedure.name,
        "bpmn_xml": draft.bpmn_xml,
        "forms": draft.forms,
        "decisions": draft.decisions,
        "revision": draft.revision,
        "based_on": draft.based_on.version if draft.based_on else None,
        "updated_by": draft.updated_by.get_username() if draft.updated_by else None,
        "updated_at": draft.updated_at.isoformat(),
    }


@login_required
@require_http_methods(["GET", "POST"])
def procedure_list(request):
    """Every procedure with its latest version and draft; a form to create one. Auditors read
    the list and the versions (who deployed what, when and why), nothing more."""
    owner = is_process_owner(request.user)
    if not owner:
        try:
            require_version_reader(request.user)
        except WorkflowError:
            return refused(request, NotAllowed(_("Only process owners may open the modeler.")))
    if request.method == "POST" and owner:
        upload = request.FILES.get("file")
        try:
            xml = _uploaded_xml(upload) if upload else ""
            draft = procedure_create(
                key=request.POST.get("key", ""),
                name=request.POST.get("name", ""),
                user=request.user,
                bpmn_xml=xml,
            )
        except NotBpmnFile:
            messages.error(request, NOT_BPMN)
        except WorkflowError as exc:
            flash_error(request, exc)
        else:
            return redirect("portal:modeler", key=draft.procedure.key)
    context = {
        "rows": procedure_rows(),
        "may_create": owner,
        "values": request.POST if request.method == "POST" else {},
        "max_bytes": conf.get("MAX_BPMN_BYTES"),
    }
    return render(request, "portal/modeler/list.html", context)


def _uploaded_xml(upload) -> str:
    limit = conf.get("MAX_BPMN_BYTES")
    if upload.size > limit:
        raise InvalidInput(
            ngettext(
                "the file is %(size)s byte; the limit is %(limit)s bytes",
                "the file is %(size)s bytes; the limit is %(limit)s bytes",
                upload.size,
            )
            % {"size": f"{upload.size:,}", "limit": f"{limit:,}"}
        )
    content = upload.read()
    try:
        xml = content.decode("utf-8")
    except UnicodeDecodeError:
        raise NotBpmnFile from None
    if not diagram_key(content):  # not XML, not BPMN, or no process in it
        raise NotBpmnFile
    return xml


@login_required
@require_GET
def modeler_page(request, key: str):
    """The modeler on the draft (or on a deployed version, ``?version=N``, to start from)."""
    try:
        draft = draft_open(key=key, user=request.user)
    except WorkflowError as exc:
        return refused(request, exc)
    try:
        versions = procedure_versions(key, user=request.user)
    except NotFound:
        versions = []  # a new procedure: only its draft so far
    opened = None
    if request.GET.get("version", "").isdigit():
        opened = next((v for v in versions if v.version == int(request.GET["version"])), None)
        if opened is None:
            return refused(request, NotFound(_("There is no such version.")))
    # The decision tables shown beside the diagram: the opened version's, else the draft's (with
    # those the draft's diagram names but does not hold yet: as deployed, else the files).
    tables = version_tables(opened) if opened is not None else draft_tables(draft)
    context = {
        "draft": draft,
        "procedure": draft.procedure,
        "versions": versions,
        "opened": opened,
        "decisions": tables,
        "decision_rows": table_rows(tables),
        "may_change": can_change_procedure(request.user, draft.procedure),
        "owners": procedure_owner_names(draft.procedure),
    }
    return render(request, "portal/modeler/modeler.html", context)


@login_required
@require_http_methods(["GET", "POST", "DELETE"])
def draft_json(request, key: str):
    """GET the draft; POST {bpmn_xml, forms, revision} saves it (409 if someone saved since)."""
    try:
        if request.method == "GET":
            return JsonResponse(_draft_body(draft_open(key=key, user=request.user)))
        if request.method == "DELETE":
            draft_discard(key=key, user=request.user)
            return JsonResponse({"discarded": True})
        body = _json_body(request)
        draft = draft_save(
            key=key,
            user=request.user,
            bpmn_xml=body.get("bpmn_xml"),
            forms=body.get("forms"),
            revision=_revision(body),
            decisions=body.get("decisions"),
        )
    except WorkflowError as exc:
        return _json_error(exc)
    return JsonResponse(_draft_body(draft))


@login_required
@require_POST
def check_json(request, key: str):
    """The server's checks (the same as deploy's) on the diagram being edited."""
    try:
        body = _json_body(request)
        xml = body.get("bpmn_xml")
        if not isinstance(xml, str):
            raise InvalidInput("send the diagram as bpmn_xml")
        decisions = body.get("decisions")
        check = draft_check(
            key=key, user=request.user, bpmn_xml=xml, forms=body.get("forms"), decisions=decisions
        )
        draft = draft_open(key=key, user=request.user)
        tables = draft_tables(draft, xml, decisions if isinstance(decisions, dict) else None)
        changes = draft_table_changes(draft, tables)
    except WorkflowError as exc:
        return _json_error(exc)
    return JsonResponse(
        {
            "ok": check.ok,
            "problems": [p.as_dict() for p in check.problems],
            "form_problems": check.form_problems,
            # What the tables change against the latest version (deploying makes a new one).
            "decision_changes": [c.as_dict() for c in changes],
            "warnings": [w.as_dict() for w in check.warnings],
        },
        json_dumps_params={"ensure_ascii": False},
    )


@login_required
@require_POST
def deploy_json(request, key: str):
    """Deploy the draft at the revision the owner saw, with a reason."""
    try:
        body = _json_body(request)
        deployment = draft_deploy(
            key=key,
            user=request.user,
            revision=_revision(body),
            comment=str(body.get("comment") or ""),
        )
    except WorkflowError as exc:
        return _json_error(exc)
    definition = deployment.definition
    return JsonResponse(
        {
            "version": definition.version,
            "created": deployment.created,
            "versions_url": f"/modeler/{key}/versions/",
        },
        status=201 if deployment.created else 200,
    )


@login_required
@require_GET
def templates_json(request, key: str):
    """Element templates: the roles, handlers and forms to pick from (and the draft's forms)."""
    try:
        draft = draft_open(key=key, user=request.user)
    except WorkflowError as exc:
        return _json_error(exc)
    return JsonResponse(
        element_templates(list(draft.forms)), safe=False, json_dumps_params={"ensure_ascii": False}
    )


@login_required
@require_GET
def version_list(request, key: str):
    """Every version: who deployed it, when and why; diff any two; move cases to one."""
    try:
        versions = procedure_versions(key, user=request.user)
    except WorkflowError as exc:
        return refused(request, exc)
    procedure = Procedure.objects.filter(key=key).first()
    context = {
        "key": key,
        "name": versions[0].name,
        "versions": versions,
        "may_change": can_change_procedure(request.user, procedure),
    }
    return render(request, "portal/modeler/versions.html", context)


@login_required
@require_GET
def version_file(request, key: str, version: int):
    """A deployed version's diagram as a .bpmn file."""
    try:
        definition = procedure_version(key, version, user=request.user)
    except WorkflowError as exc:
        return refused(request, exc)
    response = HttpResponse(definition.bpmn_xml, content_type="application/xml; charset=utf-8")
    if "inline" not in request.GET:
        filename = f"{key}.v{version}.bpmn"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_GET
def version_diff(request, key: str):
    """Two versions side by side, with added, removed and changed elements marked."""
    try:
        versions = procedure_versions(key, user=request.user)
    except WorkflowError as exc:
        return refused(request, exc)
    by_number = {v.version: v for v in versions}
    numbers = list(by_number)

    def chosen(name: str, default: int) -> int:
        value = request.GET.get(name, "")
        return int(value) if value.isdigit() and int(value) in numbers else default

    newer = chosen("b", numbers[0])
    older = chosen("a", numbers[1] if len(numbers) > 1 else numbers[0])
    # Old → new, whichever way round they were picked: the old version on the left.
    older, newer = min(older, newer), max(older, newer)
    try:
        tables = [
            version_tables(procedure_version(key, n, user=request.user)) for n in (older, newer)
        ]
    except WorkflowError as exc:
        return refused(request, exc)
    context = {
        "key": key,
        "name": versions[0].name,
        "versions": versions,
        "a": by_number[older],
        "b": by_number[newer],
        "decision_changes": table_changes(*tables),
        "has_decisions": any(tables),
    }
    return render(request, "portal/modeler/diff.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def version_migrate(request, key: str, version: int):
    """The live cases on other versions: which can move onto this one (and why not); move
    the selected ones."""
    try:
        target = procedure_version(key, version, user=request.user)
    except WorkflowError as exc:
        return refused(request, exc)
    if request.method == "POST":
        moved, failed = 0, []
        reason = request.POST.get("reason", "")
        for value in request.POST.getlist("instance"):
            if not value.isdigit():
                continue
            try:
                instance_migrate(
                    instance_id=int(value),
                    to_definition_id=target.pk,
                    user=request.user,
                    reason=reason,
                )
                moved += 1
            except WorkflowError as exc:
                failed.append(exc)
        if moved:
            messages.success(
                request,
                _("%(n)s case(s) now run on version %(v)s.") % {"n": moved, "v": target.version},
            )
        for exc in failed:
            flash_error(request, exc)
        return redirect("portal:modeler-migrate", key=key, version=version)
    try:
        candidates = migration_candidates(target=target, user=request.user)
    except WorkflowError as exc:
        return refused(request, exc)
    rows = [
        {"candidate": c, "reasons": [_blocker_text(b) for b in c.plan.blockers]} for c in candidates
    ]
    context = {
        "target": target,
        "rows": rows,
        "movable": sum(1 for c in candidates if c.plan.possible),
        "on_target": ProcessInstance.objects.filter(definition=target).count(),
    }
    return render(request, "portal/modeler/migrate.html", context)
