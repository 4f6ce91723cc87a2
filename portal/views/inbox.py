"""The inbox: my tasks and my group's claimable tasks, with filters; claim and unclaim."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from workflows.exceptions import WorkflowError
from workflows.selectors.inbox import COUNT_CAP, DUE_STATES, inbox_counts, inbox_for_user
from workflows.services.access import grants_for
from workflows.services.tasks import task_claim, task_unclaim

from ..lookups import latest_definitions, township_options, unit_names, user_tasks_of
from ..navigation import landing_page
from ..paginator import CappedPaginator
from .common import describe, flash_error, page_number, portal_setting, safe_next

TABS = ("mine", "group")
SORTS = ("due", "age")


def _filters(request) -> dict:
    get = {key: value.replace("\x00", "") for key, value in request.GET.items()}
    return {
        "procedure": get.get("procedure", "").strip(),
        "task": get.get("task", "").strip(),
        "township": get.get("township", "").strip(),
        "due": get.get("due", "") if get.get("due") in DUE_STATES else "",
        "sort": get.get("sort", "due") if get.get("sort") in SORTS else "due",
        "q": get.get("q", "").strip()[:100],
    }


@login_required
def inbox(request):
    """One page of tasks; a fixed number of queries whatever the number of tasks."""
    user = request.user
    elsewhere = landing_page(user)
    if elsewhere:
        return redirect(elsewhere)
    grants = grants_for(user)
    counts = inbox_counts(user=user, grants=grants)
    tab = request.GET.get("tab")
    if tab not in TABS:
        tab = "mine" if counts["mine"] else "group"
    f = _filters(request)
    tasks = inbox_for_user(
        user=user,
        grants=grants,
        assigned="me" if tab == "mine" else None,
        state="unclaimed" if tab == "group" else None,
        process_key=f["procedure"] or None,
        element_id=f["task"] or None,
        org_unit=f["township"] or None,
        due=f["due"] or None,
        due_soon_days=portal_setting("DUE_SOON_DAYS", 2),
        search=f["q"] or None,
        order="age" if f["sort"] == "age" else "due",
    )
    filtered = any(f[k] for k in ("procedure", "task", "township", "due", "q"))
    known = None if filtered else counts["mine" if tab == "mine" else "claimable"]
    paginator = CappedPaginator(tasks, portal_setting("PAGE_SIZE", 25), known_count=known)
    page = paginator.get_page(page_number(request))
    definitions = latest_definitions()
    chosen = [definitions[f["procedure"]]] if f["procedure"] in definitions else []
    task_options = user_tasks_of(chosen)
    context = {
        "tab": tab,
        "counts": counts,
        "filters": f,
        "page": page,
        "procedures": {key: d.name for key, d in definitions.items()},
        "task_options": task_options.get(f["procedure"], []),
        "townships": township_options(grants),
        "units": unit_names(t.scope for t in page),
        "grants": grants,
        "filtered": filtered,
        "cap": COUNT_CAP,
    }
    return render(request, "portal/inbox.html", context)


def _back(request):
    return redirect(safe_next(request) or "portal:home")


@login_required
@require_POST
def claim(request, pk: int):
    try:
        task = task_claim(task_id=pk, user=request.user)
    except WorkflowError as exc:
        flash_error(request, exc)
        return _back(request)
    messages.success(request, _("You claimed “%(task)s”.") % {"task": task.name})
    if request.POST.get("open"):
        return redirect("portal:task", pk=pk)
    return _back(request)


@login_required
@require_POST
def unclaim(request, pk: int):
    try:
        task = task_unclaim(task_id=pk, user=request.user)
    except WorkflowError as exc:
        flash_error(request, exc)
        return _back(request)
    messages.success(request, _("You gave back “%(task)s”.") % {"task": task.name})
    return _back(request)


@login_required
@require_POST
def claim_many(request):
    """Bulk claim: each task through the same service, each on its own; failures are listed."""
    ids = [int(v) for v in request.POST.getlist("task") if v.isdigit()][:100]
    claimed, failed = 0, []
    for task_id in ids:
        try:
            task_claim(task_id=task_id, user=request.user)
            claimed += 1
        except WorkflowError as exc:
            failed.append(describe(exc))
    if claimed:
        messages.success(request, _("You claimed %(n)d task(s).") % {"n": claimed})
    for message in failed:
        messages.error(request, message)
    if not ids:
        messages.warning(request, _("Select the tasks to claim first."))
    return _back(request)
