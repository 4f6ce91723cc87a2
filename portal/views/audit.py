"""The auditors' pages: search cases, replay one on its diagram, verify it, export it.

Reading only: every page here is a GET. The area is the auditors' (and the process owners',
for operations): everyone else gets a 403 from the selectors, whichever door they come by. What
an auditor finds is still what they may read."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from workflows.exceptions import WorkflowError
from workflows.models import AuditKind, AuditVerification
from workflows.selectors.audit_search import AuditQuery, audit_case_search
from workflows.selectors.case_replay import case_history, case_verify
from workflows.selectors.instances import instance_for_audit
from workflows.services.audit import audit_export, audit_verify
from workflows.services.replay import initial_definition

from .. import replay
from ..lookups import latest_definitions, unit_names
from .common import page_number, portal_setting, refused


def _query_from(request) -> tuple[AuditQuery, dict[str, str]]:
    """The search form's criteria; a date that is not one is named, not ignored."""
    get = request.GET
    errors = {}
    dates = {}
    for name in ("since", "until"):
        text = get.get(name, "").strip()
        try:
            day = parse_date(text) if text else None
        except ValueError:  # well-formed but impossible (2025-13-45)
            day = None
        if text and day is None:
            errors[name] = _("“%(value)s” is not a date (YYYY-MM-DD).") % {"value": text[:20]}
        dates[name] = day
    kind = get.get("kind", "")
    if kind and kind not in AuditKind.values:
        errors["kind"] = _("Unknown event kind.")
        kind = ""
    query = AuditQuery(
        person=get.get("person", "").strip()[:100],
        staff=get.get("staff", "").strip()[:100],
        procedure=get.get("procedure", "").strip()[:200],
        since=dates["since"],
        until=dates["until"],
        kind=kind,
    )
    if query.since and query.until and query.since > query.until:
        errors["until"] = _("The end of the period is before its start.")
    return query, errors


@login_required
def audit_search(request):
    query, errors = _query_from(request)
    page = None
    try:
        found = audit_case_search(user=request.user, query=query)
    except WorkflowError as exc:
        return refused(request, exc)
    if not query.empty and not errors:
        page = Paginator(found, portal_setting("PAGE_SIZE", 25)).get_page(page_number(request))
    context = {
        "query": query,
        "errors": errors,
        "page": page,
        "units": unit_names(i.scope for i in page) if page else {},
        "procedures": sorted(
            ((key, d.name) for key, d in latest_definitions().items()), key=lambda p: p[1]
        ),
        "kinds": AuditKind.choices,
        "verification": AuditVerification.objects.order_by("-ran_at").first(),
    }
    return render(request, "portal/audit/search.html", context)


def _readable_history(request, pk: int):
    instance = instance_for_audit(instance_id=pk, user=request.user)
    return case_history(instance=instance)


@login_required
def case_replay(request, pk: int):
    """The case on its exact diagram version, stepped event by event (``?step=N`` links one)."""
    try:
        instance = instance_for_audit(instance_id=pk, user=request.user)
    except WorkflowError as exc:
        return refused(request, exc)
    view = replay.replay_view(instance)
    # The chains are checked on every visit (cheap); the re-execution is redone whenever
    # anything it is built from has changed.
    checked, breaks = audit_verify(streams=list(view.streams))
    context = {
        "instance": instance,
        "definition": initial_definition(instance),  # a moved case: the page switches per step
        "document": view.document,
        "view": view,
        "events_checked": checked,
        "break_steps": replay.steps_of_breaks(view.document, breaks),
    }
    return render(request, "portal/audit/replay.html", context)


@login_required
def case_history_json(request, pk: int):
    """The case's chains with every hashed field, for checking outside Fuzhu."""
    try:
        history = _readable_history(request, pk)
    except WorkflowError as exc:
        return refused(request, exc)
    chains = [audit_export(stream=stream) for stream in history.streams]
    response = JsonResponse(
        {"instance": pk, "chains": chains}, json_dumps_params={"ensure_ascii": False}
    )
    response["Content-Disposition"] = f'attachment; filename="case-{pk}-history.json"'
    return response


@login_required
def case_history_pdf(request, pk: int):
    """The case's full history as a PDF for the paper file."""
    from ..history_pdf import history_pdf

    try:
        history = _readable_history(request, pk)
    except WorkflowError as exc:
        return refused(request, exc)
    verification = case_verify(history)
    content = history_pdf(history, replay.replay_document(history), verification)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="case-{pk}-history.pdf"'
    return response
