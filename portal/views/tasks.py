"""A task's page: its form (form-js, or a registered task view) beside the case context."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from workflows import extensions
from workflows.exceptions import InvalidInput, NotAllowed, NotFound, WorkflowError
from workflows.forms import form_schema
from workflows.models import HumanTask, HumanTaskState
from workflows.services.access import can_read_instance, can_work_task, grants_for
from workflows.services.documents import can_attach, document_attach
from workflows.services.tasks import task_complete, task_save_draft

from .. import cases, personal, task_views
from ..lookups import unit_names
from .common import flash_error, labelled_errors, posted_json, refused


def _task_for(request, pk: int) -> HumanTask:
    """The task, if the user may work it: NotFound when they may not even read its case,
    NotAllowed when they may read the case but the task is not theirs to do."""
    task = (
        HumanTask.objects.select_related("instance__definition", "assignee")
        .defer("instance__serialized_state")
        .filter(pk=pk)
        .first()
    )
    if task is None:
        raise NotFound(f"task {pk} does not exist")
    grants = grants_for(request.user)
    if not can_work_task(request.user, task, grants):
        if can_read_instance(request.user, task.instance, grants):
            raise NotAllowed(_("This task is for other roles or org units."))
        raise NotFound(f"task {pk} does not exist")
    return task


@login_required
def task_page(request, pk: int):
    try:
        task = _task_for(request, pk)
    except WorkflowError as exc:
        return refused(request, exc)
    custom = task_views.view_for(task.form_key)
    if custom is not None and task.state == HumanTaskState.OPEN:
        return custom(request, task)
    if request.method == "POST":
        return _submit(request, task)
    data = {**(task.instance.variables or {}), **(task.draft_data or {})}
    return _render(request, task, data=data, errors={})


def _offered(task: HumanTask, data: dict) -> dict:
    """The form's data with what its step offers to choose from, read now."""
    return {**data, **extensions.task_data(task)}


def _submit(request, task: HumanTask):
    current = {**(task.instance.variables or {}), **(task.draft_data or {})}
    data = personal.restore_masked(posted_json(request), current)
    action = request.POST.get("action")
    try:
        if action == "draft":
            task_save_draft(task_id=task.pk, user=request.user, data=data)
            messages.success(request, _("Draft saved. You can finish the task later."))
            return redirect("portal:task", pk=task.pk)
        task_complete(task_id=task.pk, user=request.user, data=data)
    except InvalidInput as exc:
        messages.error(request, _("The form has errors; see the marked fields."))
        shown = {**(task.instance.variables or {}), **data}
        return _render(request, task, data=shown, errors=exc.fields, status=400)
    except WorkflowError as exc:
        flash_error(request, exc)
        shown = {**(task.instance.variables or {}), **data}
        return _render(request, task, data=shown, errors={}, status=exc.status)
    messages.success(request, _("“%(task)s” is done.") % {"task": task.name})
    return redirect("portal:home")


def _render(request, task: HumanTask, *, data: dict, errors: dict, status: int = 200):
    instance = task.instance
    schema = form_schema(task.form_key, instance.definition)
    context = {
        "task": task,
        "instance": instance,
        "schema": schema,
        # What the step offers to choose from is the host's, not personal data: not masked.
        "form_data": _offered(task, personal.shown_form_data(schema, data)),
        "summary": extensions.case_summary(instance),
        "form_errors": errors,
        "error_list": labelled_errors(schema, errors),
        "is_open": task.state == HumanTaskState.OPEN,
        "timeline": cases.timeline(instance),
        "documents": cases.case_documents(instance),
        "may_attach": task.state == HumanTaskState.OPEN,
        "units": unit_names([task.scope, instance.scope]),
    }
    return render(request, "portal/task.html", context, status=status)


@login_required
@require_POST
def attach(request, pk: int):
    """Attach a document to the task's case (from the task page)."""
    try:
        task = _task_for(request, pk)
        if not can_attach(request.user, task.instance):
            raise NotAllowed(_("You may not add documents to this case."))
        attachment = document_attach(
            instance_id=task.instance_id,
            user=request.user,
            upload=request.FILES.get("file"),
            task_id=task.pk,
        )
    except InvalidInput as exc:
        messages.error(request, " ".join(m for ms in exc.fields.values() for m in ms))
        return redirect("portal:task", pk=pk)
    except WorkflowError as exc:
        return refused(request, exc)
    messages.success(request, _("“%(name)s” was attached.") % {"name": attachment.filename})
    return redirect("portal:task", pk=pk)
