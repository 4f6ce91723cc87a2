"""Case pages: search, the case (diagram, timeline, data, documents), and its operations."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from workflows import conf
from workflows.exceptions import InvalidInput, NotFound, WorkflowError
from workflows.models import ProcessDefinition, ProcessInstance
from workflows.selectors.diagrams import instance_token_marks
from workflows.selectors.inbox import SEARCH_VARIABLES
from workflows.selectors.instances import instance_for_user, instances_visible_to
from workflows.services import instances as instance_services
from workflows.services.access import user_has_role
from workflows.services.documents import can_attach, document_attach, document_for_user

from .. import cases
from ..lookups import latest_definitions, unit_names
from .common import flash_error, page_number, portal_setting, refused, safe_next


@login_required
def case_search(request):
    """Find cases by business key, applicant name or ID."""
    user, query = request.user, request.GET.get("q", "").replace("\x00", "").strip()[:100]
    found = ProcessInstance.objects.none()
    if query:
        match = Q(business_key__icontains=query)
        for name in SEARCH_VARIABLES:
            match |= Q(**{f"variables__{name}__icontains": query})
        ids = instances_visible_to(user=user).filter(match).values("pk")
        found = (
            ProcessInstance.objects.filter(pk__in=ids)
            .select_related("definition")
            .defer("serialized_state", "definition__bpmn_xml")
            .order_by("-created_at", "-pk")
        )
    page = Paginator(found, portal_setting("PAGE_SIZE", 25)).get_page(page_number(request))
    context = {"query": query, "page": page, "units": unit_names(i.scope for i in page)}
    return render(request, "portal/case_search.html", context)


@login_required
def case_page(request, pk: int):
    try:
        instance = instance_for_user(instance_id=pk, user=request.user)
    except WorkflowError as exc:
        return refused(request, exc)
    tasks = cases.case_tasks(instance)
    context = {
        "instance": instance,
        "definition": instance.definition,
        "marks": instance_token_marks(instance),
        "timeline": cases.timeline(instance),
        "tasks": tasks,
        "open_tasks": [t for t in tasks if t.state == "open"],
        "documents": cases.case_documents(instance),
        "may_attach": not instance.is_finished and can_attach(request.user, instance),
        "may_operate": user_has_role(request.user, conf.get("OPERATOR_ROLE")),
        "variables": cases.labelled_data(instance),
        "units": unit_names([instance.scope, *(t.scope for t in tasks)]),
    }
    return render(request, "portal/case.html", context)


@login_required
def definition_xml(request, pk: int):
    """A deployed diagram's XML for bpmn-js (any signed-in staff member may read diagrams)."""
    definition = ProcessDefinition.objects.filter(pk=pk).only("bpmn_xml", "sha256").first()
    if definition is None:
        return refused(request, NotFound(f"process definition {pk} does not exist"))
    response = HttpResponse(definition.bpmn_xml, content_type="application/xml; charset=utf-8")
    response["Cache-Control"] = "private, max-age=86400"  # a deployed version never changes
    response["ETag"] = f'"{definition.sha256}"'
    return response


@login_required
def document_download(request, pk: int):
    try:
        attachment = document_for_user(attachment_id=pk, user=request.user)
    except WorkflowError as exc:
        return refused(request, exc)
    response = FileResponse(
        attachment.file.open("rb"),
        content_type=attachment.content_type,
        as_attachment=request.GET.get("download") == "1",
        filename=attachment.filename,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Checksum-SHA256"] = attachment.sha256
    return response


@login_required
@require_POST
def case_attach(request, pk: int):
    try:
        attachment = document_attach(
            instance_id=pk, user=request.user, upload=request.FILES.get("file")
        )
    except InvalidInput as exc:
        messages.error(request, " ".join(m for ms in exc.fields.values() for m in ms))
        return redirect("portal:case", pk=pk)
    except WorkflowError as exc:
        return refused(request, exc)
    messages.success(request, _("“%(name)s” was attached.") % {"name": attachment.filename})
    return redirect("portal:case", pk=pk)


OPERATIONS = {
    "retry": lambda pk, user, reason: instance_services.instance_retry(instance_id=pk, user=user),
    "suspend": lambda pk, user, reason: instance_services.instance_suspend(
        instance_id=pk, user=user, reason=reason
    ),
    "resume": lambda pk, user, reason: instance_services.instance_resume(instance_id=pk, user=user),
    "terminate": lambda pk, user, reason: instance_services.instance_terminate(
        instance_id=pk, user=user, reason=reason
    ),
}
DONE_MESSAGES = {
    "retry": gettext_lazy("The incident is cleared; the step will be tried again."),
    "suspend": gettext_lazy("The case is suspended."),
    "resume": gettext_lazy("The case is resumed."),
    "terminate": gettext_lazy("The case is terminated."),
}


@login_required
@require_POST
def case_operate(request, pk: int, operation: str):
    """Retry an incident, suspend, resume or terminate (process owners; the service checks)."""
    run = OPERATIONS.get(operation)
    if run is None:
        return refused(request, NotFound(f"no operation '{operation}'"))
    try:
        run(pk, request.user, request.POST.get("reason", "").strip())
    except InvalidInput as exc:
        flash_error(request, exc)
    except WorkflowError as exc:
        if exc.status in (403, 404):
            return refused(request, exc)
        flash_error(request, exc)
    else:
        messages.success(request, str(DONE_MESSAGES[operation]))
    return redirect(safe_next(request) or reverse("portal:case", args=[pk]))


def procedure_names() -> dict[str, str]:
    return {key: d.name for key, d in latest_definitions().items()}
