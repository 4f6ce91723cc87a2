"""Starting a case: the catalog of procedures this user may start, and the start form."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from workflows.exceptions import InvalidInput, NotAllowed, NotFound, WorkflowError
from workflows.forms import form_name, form_schema
from workflows.models import ProcessDefinition
from workflows.services.instances import instance_start
from workflows.services.starting import definition_start_form_key, startable_definitions

from ..lookups import unit_names
from .common import flash_error, labelled_errors, posted_json, refused


@login_required
def catalog(request):
    startable = startable_definitions(request.user)
    names = unit_names(code for _d, scopes in startable for code in scopes)
    rows = [(d, [(code, names.get(code, code)) for code in scopes]) for d, scopes in startable]
    return render(request, "portal/start_catalog.html", {"rows": rows})


@login_required
def start_form(request, key: str):
    startable = dict((d.key, (d, scopes)) for d, scopes in startable_definitions(request.user))
    if key not in startable:
        exists = ProcessDefinition.objects.filter(key=key).exists()
        exc = NotAllowed(_("You may not start this procedure.")) if exists else NotFound(key)
        return refused(request, exc)
    summary, scopes = startable[key]
    definition = ProcessDefinition.objects.get(pk=summary.pk)
    form_key = definition_start_form_key(definition)
    schema = form_schema(form_name(form_key), definition) if form_key else None
    names = unit_names(scopes)
    units = [(code, names.get(code, code) or _("everywhere")) for code in scopes]
    context = {
        "definition": definition,
        "schema": schema,
        "units": units,
        "form_data": {},
        "form_errors": {},
        "business_key": "",
        "org_unit": units[0][0] if units else "",
    }
    if request.method != "POST":
        return render(request, "portal/start_form.html", context)
    data = posted_json(request)
    business_key = request.POST.get("business_key", "").replace("\x00", "").strip()[:200]
    org_unit = request.POST.get("org_unit", "").strip()
    context.update(form_data=data, business_key=business_key, org_unit=org_unit)
    if org_unit not in scopes:
        org_unit = None  # not one the catalog offered: the service decides (home unit)
    try:
        instance = instance_start(
            process_key=key,
            user=request.user,
            business_key=business_key,
            org_unit=org_unit,
            variables=data,
            definition=definition,
        )
    except InvalidInput as exc:
        messages.error(request, _("The form has errors; see the marked fields."))
        context["form_errors"] = exc.fields
        context["error_list"] = labelled_errors(schema, exc.fields)
        return render(request, "portal/start_form.html", context, status=400)
    except WorkflowError as exc:
        flash_error(request, exc)
        return render(request, "portal/start_form.html", context, status=exc.status)
    messages.success(request, _("The case was started."))
    return redirect("portal:case", pk=instance.pk)
