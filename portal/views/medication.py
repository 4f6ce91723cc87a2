"""The medication subsidy's screens (困难精神残疾人药费补助): its task pages (survey, reference
data, township review, county and finance approval, bank return, account correction, report)
and the cycle's own pages. Each view parses the request, calls one service or selector of
``processes.medication``, and renders; every rule is checked again in the services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from processes.medication import files, selectors
from processes.medication.models import (
    CycleState,
    EntryState,
    FlagKind,
    MedicationCycle,
    MedicationEntry,
    ReferenceKind,
)
from processes.medication.rules import LOW_INCOME, SCHEMES
from processes.medication.services import cycles, payout, reference, review, survey
from processes.medication.services.report import cycle_report, cycle_report_xlsx
from registry.models import CardKind, LowIncomeStatus, OrgUnit
from workflows.exceptions import InvalidInput, NotAllowed, NotFound, WorkflowError
from workflows.services.access import user_has_role
from workflows.services.tasks import task_complete

from ..task_views import task_view
from .common import flash_error, page_number, refused

PAGE_SIZE = 100


# --- shared ------------------------------------------------------------------------------------


def _cycle_of(task) -> MedicationCycle:
    cycle = MedicationCycle.objects.select_related("county").filter(instance=task.instance).first()
    if cycle is None:
        cycle_id = (task.instance.variables or {}).get("cycle_id")
        cycle = MedicationCycle.objects.select_related("county").filter(pk=cycle_id).first()
    if cycle is None:
        raise NotFound(_("This case runs no medication-subsidy cycle."))
    return cycle


def _township(code: str) -> OrgUnit:
    unit = OrgUnit.objects.filter(code=code).first()
    if unit is None:
        raise NotFound(code)
    return unit


def _back(task):
    return redirect("portal:task", pk=task.pk)


def _run(request, task, action, success):
    """Call a service for a POST and say what it did (``success(result)``), or why it was
    refused. Back to the task page either way."""
    try:
        result = action()
    except InvalidInput as exc:
        messages.error(request, exc.message)
    except WorkflowError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, success(result))
    return _back(task)


def _complete(request, task, data: dict | None = None):
    try:
        task_complete(task_id=task.pk, user=request.user, data=data or {})
    except InvalidInput as exc:
        messages.error(request, exc.message)
        return _back(task)
    except WorkflowError as exc:
        flash_error(request, exc)
        return _back(task)
    messages.success(request, _("“%(task)s” is done.") % {"task": task.name})
    return redirect("portal:home")


def _context(task, cycle, **extra) -> dict:
    return {"task": task, "cycle": cycle, "instance": task.instance, **extra}


def _page(request, rows, size: int = PAGE_SIZE):
    return Paginator(rows, size).get_page(page_number(request))


# --- survey -------------------------------------------------------------------------------------


@task_view("medication_survey", label="新增对象摸底")
def survey_task(request, task):
    cycle, township = _cycle_of(task), _township(task.scope)
    report = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "add":
            return _add_applicant(request, task, cycle)
        if action == "withdraw":
            return _run(
                request,
                task,
                lambda: survey.survey_withdraw(
                    user=request.user,
                    entry_id=int(request.POST.get("entry") or 0),
                    reason=request.POST.get("reason", ""),
                ),
                lambda _entry: _("The applicant was taken off the list."),
            )
        if action == "complete":
            return _complete(request, task)
        if action == "import":
            try:
                report = survey.survey_import(
                    user=request.user,
                    cycle_id=cycle.pk,
                    township_code=task.scope,
                    upload=request.FILES.get("file"),
                )
            except InvalidInput as exc:
                messages.error(request, exc.message)
            except WorkflowError as exc:
                flash_error(request, exc)
    rows = _page(request, selectors.new_applicants(cycle, township))
    context = _context(task, cycle, township=township, page=rows, report=report)
    return render(request, "portal/medication/survey.html", context)


def _add_applicant(request, task, cycle):
    post = request.POST
    try:
        entry = survey.survey_add(
            user=request.user,
            cycle_id=cycle.pk,
            township_code=task.scope,
            citizen_id=post.get("citizen_id", ""),
            name=post.get("name", ""),
            note=post.get("note", ""),
        )
    except InvalidInput as exc:
        messages.error(request, exc.message)
        return _back(task)
    except WorkflowError as exc:
        flash_error(request, exc)
        return _back(task)
    name = entry.person.name
    if entry.survey_check:
        reasons = "；".join(c["detail"] for c in entry.survey_check)
        messages.warning(
            request,
            _("%(name)s was added but does not qualify: %(reasons)s")
            % {"name": name, "reasons": reasons},
        )
    else:
        messages.success(request, _("%(name)s was added and qualifies.") % {"name": name})
    return _back(task)


# --- reference data -------------------------------------------------------------------------


@task_view("medication_reference_data", label="上传比对数据")
def reference_task(request, task):
    cycle = _cycle_of(task)
    if request.method == "POST":
        if request.POST.get("action") == "complete":
            return _complete(request, task)
        return _run(
            request,
            task,
            lambda: reference.reference_upload(
                user=request.user,
                cycle_id=cycle.pk,
                kind=request.POST.get("kind", ""),
                upload=request.FILES.get("file"),
            ),
            lambda uploaded: (
                _("“%(name)s” was uploaded: %(rows)s rows.")
                % {"name": uploaded.file_name, "rows": uploaded.row_count}
            ),
        )
    files = cycle.reference_files.select_related("uploaded_by").order_by("uploaded_at")
    context = _context(
        task,
        cycle,
        files=files,
        kinds=ReferenceKind.choices,
        surveys=selectors.township_overview(cycle),
    )
    return render(request, "portal/medication/reference.html", context)


# --- township review --------------------------------------------------------------------------


@task_view("medication_township_review", label="乡镇审核名单")
def review_task(request, task):
    cycle, township = _cycle_of(task), _township(task.scope)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "bulk_approve":
            return _run(
                request,
                task,
                lambda: review.entries_bulk_approve(
                    user=request.user, cycle_id=cycle.pk, township_code=task.scope
                ),
                lambda n: _("%(n)s unflagged rows approved.") % {"n": n},
            )
        if action in ("approve", "reject"):
            return _decide(request, task, action)
        if action == "complete":
            return _complete(request, task, {"note": request.POST.get("note", "")})
    show = request.GET.get("show", "all")
    search = request.GET.get("q", "").strip()
    rows = _page(request, selectors.review_rows(cycle, township, show=show, search=search))
    township_list = cycle.townships.filter(township=township).first()
    context = _context(
        task,
        cycle,
        township=township,
        township_list=township_list,
        page=rows,
        show=show,
        search=search,
        counts=selectors.review_counts(cycle, township),
        tabs=[
            ("all", _("All")),
            ("flagged", _("Flagged")),
            ("undecided", _("Not reviewed")),
            ("approved", _("Approved")),
            ("rejected", _("Rejected")),
        ],
    )
    return render(request, "portal/medication/review.html", context)


def _decide(request, task, action: str):
    try:
        entry = review.entry_decide(
            user=request.user,
            entry_id=int(request.POST.get("entry") or 0),
            decision=action,
            reason=request.POST.get("reason", ""),
        )
    except InvalidInput as exc:
        messages.error(request, exc.message)
    except WorkflowError as exc:
        flash_error(request, exc)
    else:
        done = _("approved") if action == "approve" else _("rejected")
        messages.success(request, f"{entry.person.name}：{done}")
    target = request.POST.get("next") or ""
    if target.startswith(f"/tasks/{task.pk}/"):
        return redirect(target)
    return _back(task)


# --- county and finance approval ---------------------------------------------------------------


@task_view("medication_county_approval", label="县残联审批名单")
def county_task(request, task):
    cycle = _cycle_of(task)
    if request.method == "POST":
        data = {
            "decision": request.POST.get("decision", ""),
            "township": request.POST.get("township", ""),
            "reason": request.POST.get("reason", ""),
            "note": request.POST.get("note", ""),
        }
        return _complete(request, task, data)
    rows, grand = selectors.township_totals(cycle, EntryState.TOWNSHIP_APPROVED)
    context = _context(
        task, cycle, overview=selectors.township_overview(cycle), totals=rows, grand=grand
    )
    return render(request, "portal/medication/county.html", context)


@task_view("medication_finance_approval", label="财政审批")
def finance_task(request, task):
    cycle = _cycle_of(task)
    if request.method == "POST":
        data = {
            "decision": request.POST.get("decision", ""),
            "confirmed_total": request.POST.get("confirmed_total", ""),
            "reason": request.POST.get("reason", ""),
        }
        return _complete(request, task, data)
    rows, grand = selectors.township_totals(cycle, EntryState.COUNTY_APPROVED)
    return render(
        request,
        "portal/medication/finance.html",
        _context(task, cycle, totals=rows, grand=grand),
    )


# --- payout -----------------------------------------------------------------------------------


@task_view("medication_bank_return", label="上传银行回盘文件")
def bank_return_task(request, task):
    cycle = _cycle_of(task)
    batch = cycle.batches.order_by("-number").first()
    if request.method == "POST":
        if request.POST.get("action") == "complete":
            return _complete(request, task)
        try:
            outcome = payout.bank_return_apply(
                user=request.user, batch_id=batch.pk, upload=request.FILES.get("file")
            )
        except InvalidInput as exc:
            messages.error(request, exc.message)
        except WorkflowError as exc:
            flash_error(request, exc)
        else:
            level = messages.warning if outcome.already_applied else messages.success
            level(request, outcome.message)
        return _back(task)
    counts = selectors.batch_counts(batch) if batch else {}
    returns = batch.returns.select_related("uploaded_by").order_by("uploaded_at") if batch else []
    context = _context(task, cycle, batch=batch, counts=counts, returns=returns)
    context["may_download"] = selectors.downloads_bank_files(request.user, cycle)
    return render(request, "portal/medication/bank_return.html", context)


@task_view("medication_account_correction", label="更正发放账户")
def correction_task(request, task):
    cycle, township = _cycle_of(task), _township(task.scope)
    if request.method == "POST":
        action, entry = request.POST.get("action"), int(request.POST.get("entry") or 0)
        post = request.POST
        if action == "correct":
            return _run(
                request,
                task,
                lambda: payout.entry_correct_account(
                    user=request.user,
                    entry_id=entry,
                    kind=post.get("kind", ""),
                    number=post.get("number", ""),
                    bank_name=post.get("bank_name", ""),
                ),
                lambda _entry: _(
                    "The account was corrected; the person is paid in the next batch."
                ),
            )
        if action == "abandon":
            return _run(
                request,
                task,
                lambda: payout.entry_abandon_payment(
                    user=request.user, entry_id=entry, reason=post.get("reason", "")
                ),
                lambda _entry: _("The payment was given up."),
            )
        if action == "complete":
            return _complete(request, task)
    rows = selectors.failed_payments(cycle, township)
    context = _context(task, cycle, township=township, rows=rows, card_kinds=CardKind.choices)
    return render(request, "portal/medication/correction.html", context)


@task_view("medication_cycle_report", label="年度报告")
def report_task(request, task):
    cycle = _cycle_of(task)
    if request.method == "POST":
        return _complete(request, task, {"note": request.POST.get("note", "")})
    report = cycle_report(cycle)
    return render(
        request, "portal/medication/report_task.html", _context(task, cycle, report=report)
    )


# --- the cycle's own pages -----------------------------------------------------------------------


def _readable_cycle(request, pk: int) -> MedicationCycle:
    cycle = MedicationCycle.objects.select_related("county", "instance").filter(pk=pk).first()
    if cycle is None or not selectors.can_read_cycle(request.user, cycle):
        raise NotFound(_("No such cycle."))
    return cycle


@login_required
def cycle_list(request):
    cycles_shown = selectors.cycles_for_user(request.user)
    return render(request, "portal/medication/cycle_list.html", {"cycles": cycles_shown})


@login_required
def cycle_page(request, pk: int):
    try:
        cycle = _readable_cycle(request, pk)
    except WorkflowError as exc:
        return refused(request, exc)
    may_change_rules = cycle.state == CycleState.SURVEYING and user_has_role(
        request.user, "process_owner", scope_path=cycle.county.path
    )
    if request.method == "POST":
        return _change_rules(request, cycle)
    every_list = selectors.sees_every_list(request.user, cycle)
    overview, overview_total = selectors.township_overview_total(cycle) if every_list else ([], {})
    show_report = cycle.state != CycleState.SURVEYING and selectors.sees_totals(request.user, cycle)
    context = {
        "cycle": cycle,
        "every_list": every_list,
        "overview": overview,
        "overview_total": overview_total,
        "readable": selectors.township_lists_for(request.user, cycle),
        "files": cycle.reference_files.order_by("uploaded_at") if every_list else [],
        "batches": cycle.batches.order_by("number")
        if selectors.sees_totals(request.user, cycle)
        else [],
        "may_change_rules": may_change_rules,
        "may_download": selectors.downloads_bank_files(request.user, cycle),
        "show_report": show_report,
        "report": cycle_report(cycle) if show_report else None,
        "flag_labels": dict(FlagKind.choices),
        "statuses": [(v, LowIncomeStatus(v).label) for v in LOW_INCOME],
        "schemes": [(v, _scheme_label(v)) for v in SCHEMES],
    }
    return render(request, "portal/medication/cycle.html", context)


def _scheme_label(value: str) -> str:
    if value == "tekun":
        return _("persons in 特困 support")
    return _("persons paid from public funds")


def _change_rules(request, cycle):
    post = request.POST
    try:
        cycles.cycle_rules_change(
            user=request.user,
            cycle_id=cycle.pk,
            amount=post.get("amount"),
            rules={
                "include_multiple": post.get("include_multiple") == "on",
                "low_income_statuses": post.getlist("low_income_statuses"),
                "excluded_schemes": post.getlist("excluded_schemes"),
            },
        )
    except InvalidInput as exc:
        messages.error(request, exc.message)
    except WorkflowError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("The cycle's rules and amount were changed."))
    return redirect("portal:medication-cycle", pk=cycle.pk)


@login_required
def report_download(request, pk: int):
    try:
        cycle = _readable_cycle(request, pk)
        if not selectors.sees_totals(request.user, cycle):
            raise NotAllowed(_("You may not read this report."))
    except WorkflowError as exc:
        return refused(request, exc)
    response = HttpResponse(
        cycle_report_xlsx(cycle, persons=selectors.sees_every_list(request.user, cycle)),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="medication-{cycle.year}.xlsx"'
    return response


@login_required
def batch_file(request, pk: int, fmt: str):
    try:
        batch, stored = payout.bank_file_open(user=request.user, batch_id=pk, fmt=fmt)
    except WorkflowError as exc:
        return refused(request, exc)
    return FileResponse(stored.open("rb"), as_attachment=True, filename=f"{batch.code}.{fmt}")


@login_required
def entry_list(request, pk: int):
    try:
        cycle = _readable_cycle(request, pk)
        township = _township(request.GET.get("township", ""))
        if not selectors.can_read_entries(request.user, cycle, township):
            raise NotAllowed(_("You may not read this township's list."))
    except WorkflowError as exc:
        return refused(request, exc)
    show, search = request.GET.get("show", "all"), request.GET.get("q", "").strip()
    rows = _page(request, selectors.review_rows(cycle, township, show=show, search=search))
    context = {"cycle": cycle, "township": township, "page": rows, "show": show, "search": search}
    return render(request, "portal/medication/entries.html", context)


@login_required
def entry_page(request, pk: int):
    entry = (
        MedicationEntry.objects.select_related("cycle__county", "township", "person", "decided_by")
        .filter(pk=pk)
        .first()
    )
    if entry is None or not selectors.can_read_entries(request.user, entry.cycle, entry.township):
        return refused(request, NotFound(_("No such entry.")))
    context = {
        "entry": entry,
        "cycle": entry.cycle,
        "flags": entry.flags.order_by("pk"),
        "lines": entry.lines.select_related("batch").order_by("pk"),
        "history": selectors.entry_history(entry),
    }
    return render(request, "portal/medication/entry.html", context)


@login_required
def file_template(request, layout: str):
    """A blank template of one of the procedure's upload files (no personal data in it)."""
    found = files.file_template(layout)
    if found is None:
        return refused(request, NotFound(_("No such file.")))
    name, content = found
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response
