"""Operations for process owners: instances by procedure and state, incidents, waiting steps."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import render
from django.utils.translation import gettext as _

from workflows import conf
from workflows.exceptions import NotAllowed, NotFound
from workflows.models import (
    HumanTask,
    HumanTaskState,
    InstanceState,
    Job,
    JobState,
    ProcessDefinition,
    ProcessInstance,
    Timer,
    TimerState,
)
from workflows.services.access import user_has_role

from ..lookups import element_names, latest_definitions, unit_names
from .common import page_number, portal_setting, refused

STATES = [state for state, _label in InstanceState.choices]


def _operator_only(view):
    def wrapped(request, *args, **kwargs):
        if not user_has_role(request.user, conf.get("OPERATOR_ROLE")):
            return refused(request, NotAllowed(_("Operations are for process owners.")))
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return login_required(wrapped)


@_operator_only
def overview(request):
    """Counts of instances per procedure and state (one grouped query), and the incidents."""
    rows = (
        ProcessInstance.objects.values("definition__key", "state")
        .annotate(n=Count("id"))
        .order_by()
    )
    table: dict[str, dict[str, int]] = {}
    for row in rows:
        table.setdefault(row["definition__key"], {})[row["state"]] = row["n"]
    definitions = latest_definitions()
    procedures = [
        (
            key,
            definitions[key].name if key in definitions else key,
            [table.get(key, {}).get(state, 0) for state in STATES],
            sum(table.get(key, {}).values()),
        )
        for key in sorted(set(table) | set(definitions))
    ]
    incidents = list(_instances(state=InstanceState.INCIDENT)[:20])
    context = {
        "states": InstanceState.choices,
        "procedures": procedures,
        "incidents": incidents,
        "units": unit_names(i.scope for i in incidents),
    }
    return render(request, "portal/ops_overview.html", context)


def _instances(*, key: str = "", state: str = ""):
    instances = ProcessInstance.objects.select_related("definition", "started_by").defer(
        "serialized_state", "definition__bpmn_xml", "variables"
    )
    if key:
        instances = instances.filter(definition__key=key)
    if state in STATES:
        instances = instances.filter(state=state)
    return instances.order_by("-updated_at", "-pk")


@_operator_only
def instance_list(request):
    key, state = request.GET.get("procedure", ""), request.GET.get("state", "")
    page = Paginator(_instances(key=key, state=state), portal_setting("PAGE_SIZE", 25)).get_page(
        page_number(request)
    )
    definitions = latest_definitions()
    context = {
        "page": page,
        "procedure": key,
        "state": state,
        "states": InstanceState.choices,
        "procedures": {k: d.name for k, d in definitions.items()},
        "units": unit_names(i.scope for i in page),
    }
    return render(request, "portal/ops_instances.html", context)


@_operator_only
def procedure_overlay(request, key: str):
    """The latest diagram of a procedure with how many live cases wait at each step."""
    definition = (
        ProcessDefinition.objects.filter(key=key).defer("bpmn_xml").order_by("-version").first()
    )
    if definition is None:
        return refused(request, NotFound(f"no procedure '{key}'"))
    counts: dict[str, int] = {}
    waiting = [
        HumanTask.objects.filter(process_key=key, state=HumanTaskState.OPEN),
        Timer.objects.filter(instance__definition__key=key, state=TimerState.WAITING),
        Job.objects.filter(
            instance__definition__key=key, state__in=[JobState.PENDING, JobState.RUNNING]
        ),
    ]
    for rows in waiting:
        for element, n in rows.values_list("element_id").annotate(n=Count("id")).order_by():
            counts[element] = counts.get(element, 0) + n
    incidents = (
        ProcessInstance.objects.filter(definition__key=key, state=InstanceState.INCIDENT)
        .values_list("incident_element")
        .annotate(n=Count("id"))
        .order_by()
    )
    incident_counts = dict(incidents)
    names = element_names(ProcessDefinition.objects.get(pk=definition.pk))
    context = {
        "definition": definition,
        "marks": {"counts": counts, "incident": sorted(e for e in incident_counts if e)},
        "counts": [(names.get(e, e), n) for e, n in sorted(counts.items(), key=lambda kv: -kv[1])],
        "incident_counts": incident_counts,
    }
    return render(request, "portal/ops_procedure.html", context)
