"""Assistive-device fitting's screens (基本型辅助器具适配): every step's task page (the step's
form-js form beside the application — plan, subsidy, order, fittings), registering an
application with the catalogue to choose from, the applications a user may see, and the
monthly settlement statements. Views parse, call one service or selector of
``processes.devices``, and render; the rules are checked again in the services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from processes.devices import selectors
from processes.devices.handlers import COMPLETION_HOOKS
from processes.devices.models import ApplicationState, DeviceApplication
from processes.devices.services.common import PROCESS_KEY
from workflows.exceptions import InvalidInput, NotFound, WorkflowError
from workflows.forms import form_schema
from workflows.services.documents import can_attach
from workflows.services.instances import instance_start
from workflows.services.tasks import task_complete, task_save_draft

from .. import cases
from ..lookups import unit_names
from ..task_views import task_view
from .common import flash_error, labelled_errors, page_number, portal_setting, posted_json, refused

STEP_LABELS = {
    "device_check": "辅具适配：审核",
    "device_supplement": "辅具适配：补充材料",
    "device_assign_assessment": "辅具适配：指派评估机构",
    "device_assessment": "辅具适配：评估与适配方案",
    "device_approval": "辅具适配：审批",
    "device_procurement": "辅具适配：采购",
    "device_fitting": "辅具适配：适配",
    "device_acceptance": "辅具适配：验收",
    "device_follow_up": "辅具适配：回访",
}


def _application_of(task) -> DeviceApplication:
    application = (
        DeviceApplication.objects.select_related(
            "person", "household_unit", "assessment_institution", "service_institution"
        )
        .filter(instance_id=task.instance_id)
        .first()
    )
    if application is None:
        raise NotFound(_("This case runs no device application."))
    return application


def _choices(task, application: DeviceApplication) -> dict:
    """What the step's form offers: read from the registry and catalogue now, not the case."""
    if task.form_key == "device_assign_assessment":
        return {"assessment_institution_options": selectors.assessment_institution_options()}
    if task.form_key == "device_assessment":
        extra = {"catalogue_options": selectors.catalogue_options()}
        if application.plan_items.exists():
            extra["plan"] = selectors.plan_as_entered(application)
        return extra
    if task.form_key == "device_procurement":
        return {"provider_options": selectors.provider_options(application, timezone.localdate())}
    return {}


def device_task(request, task):
    """Every open task of the procedure."""
    try:
        application = _application_of(task)
    except WorkflowError as exc:
        return refused(request, exc)
    choices = _choices(task, application)
    variables = task.instance.variables or {}
    if request.method != "POST":
        data = {**variables, **choices, **(task.draft_data or {})}
        return _render(request, task, application, data=data, errors={})
    data = posted_json(request)
    try:
        if request.POST.get("action") == "draft":
            task_save_draft(task_id=task.pk, user=request.user, data=data)
            messages.success(request, _("Draft saved. You can finish the task later."))
            return redirect("portal:task", pk=task.pk)
        task_complete(task_id=task.pk, user=request.user, data=data)
    except InvalidInput as exc:
        messages.error(
            request, _("The form has errors; see the marked fields.") if exc.fields else exc.message
        )
        shown = {**variables, **choices, **data}
        return _render(request, task, application, data=shown, errors=exc.fields, status=400)
    except WorkflowError as exc:
        flash_error(request, exc)
        shown = {**variables, **choices, **data}
        return _render(request, task, application, data=shown, errors={}, status=exc.status)
    messages.success(request, _("“%(task)s” is done.") % {"task": task.name})
    return redirect("portal:home")


for _form_key in COMPLETION_HOOKS:
    task_view(_form_key, label=STEP_LABELS.get(_form_key, _form_key))(device_task)


def _render(request, task, application, *, data: dict, errors: dict, status: int = 200):
    schema = form_schema(task.form_key, task.instance.definition)
    context = {
        "task": task,
        "instance": task.instance,
        "application": application,
        "schema": schema,
        "form_data": data,
        "form_errors": errors,
        "error_list": labelled_errors(schema, errors),
        "is_open": True,
        "documents": cases.case_documents(task.instance),
        "may_attach": True,
        "units": unit_names([task.scope, task.instance.scope]),
        **_details(application),
    }
    return render(request, "portal/devices/task.html", context, status=status)


def _details(application: DeviceApplication) -> dict:
    return {
        "plan": list(application.plan_items.select_related("device").order_by("line")),
        "order": getattr(application, "purchase_order", None),
        "fittings": list(application.fittings.select_related("recorded_by")),
        "follow_ups": list(application.follow_ups.select_related("recorded_by")),
        "settlement": getattr(application, "settlement_line", None),
        "approved": application.approved_at is not None,
    }


@login_required
def application_list(request):
    query = request.GET.get("q", "").replace("\x00", "").strip()[:50]
    state = request.GET.get("state", "")
    state = state if state in ApplicationState.values else ""
    found = selectors.applications_for_user(user=request.user, search=query, state=state)
    page = Paginator(found, portal_setting("PAGE_SIZE", 25)).get_page(page_number(request))
    context = {"page": page, "query": query, "state": state, "states": ApplicationState.choices}
    return render(request, "portal/devices/application_list.html", context)


@login_required
def application_page(request, pk: int):
    application = selectors.application_for_user(user=request.user, pk=pk)
    if application is None:
        return refused(request, NotFound(_("No such application.")))
    instance = application.instance
    context = {
        "application": application,
        "instance": instance,
        "timeline": cases.timeline(instance) if instance else [],
        "open_tasks": list(instance.human_tasks.filter(state="open")) if instance else [],
        "documents": cases.case_documents(instance) if instance else [],
        "may_attach": bool(instance) and can_attach(request.user, instance),
        **_details(application),
    }
    return render(request, "portal/devices/application.html", context)


@login_required
def apply(request):
    """Register an application, choosing devices from the catalogue."""
    schema = form_schema("device_application")
    options = {"catalogue_options": selectors.catalogue_options()}
    context = {"schema": schema, "form_data": options, "form_errors": {}}
    if request.method != "POST":
        return render(request, "portal/devices/apply.html", context)
    data = posted_json(request)
    try:
        instance = instance_start(process_key=PROCESS_KEY, user=request.user, variables=data)
    except InvalidInput as exc:
        messages.error(request, _("The form has errors; see the marked fields."))
        context.update(
            form_data={**data, **options},
            form_errors=exc.fields,
            error_list=labelled_errors(schema, exc.fields),
        )
        return render(request, "portal/devices/apply.html", context, status=400)
    except WorkflowError as exc:
        flash_error(request, exc)
        context.update(form_data={**data, **options})
        return render(request, "portal/devices/apply.html", context, status=exc.status)
    application = DeviceApplication.objects.get(instance=instance)
    messages.success(
        request, _("Application %(number)s is registered.") % {"number": application.number}
    )
    return redirect("portal:device-application", pk=application.pk)


@login_required
def statement_list(request):
    statements = selectors.statements_for_user(user=request.user).order_by("-period", "number")
    page = Paginator(statements, portal_setting("PAGE_SIZE", 25)).get_page(page_number(request))
    return render(request, "portal/devices/statements.html", {"page": page})


@login_required
def statement_file(request, pk: int):
    statement = selectors.statements_for_user(user=request.user).filter(pk=pk).first()
    if statement is None or not statement.file:
        return refused(request, NotFound(_("No such statement.")))
    return FileResponse(
        statement.file.open("rb"),
        as_attachment=True,
        filename=f"{statement.number}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
