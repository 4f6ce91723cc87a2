"""The registry's pages: persons, a person's card, import (upload → report → commit), export.

They parse the request, call one selector or service, and render; the rules are the services'.
"""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from workflows.exceptions import InvalidInput, NotAllowed, NotFound, WorkflowError

from . import conf
from .imports.columns import COLUMNS, HEADERS
from .imports.templates import template_workbook
from .models import ImportBatch, ImportRow, ImportRowOutcome, ImportState
from .selectors import exports
from .selectors.persons import person_for_user, persons_for_user
from .selectors.reveals import full_number_views
from .services import imports as import_services
from .services.access import (
    can_see_full_card,
    can_see_full_id,
    can_write_person,
    reach_for,
)
from .services.persons import person_reveal

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _doors(view):
    """Services speak in NotFound / NotAllowed; pages answer 404 / 403."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from None
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from None

    return login_required(wrapped)


@_doors
def person_list(request):
    params = request.GET
    persons = persons_for_user(
        user=request.user,
        search=params.get("q", ""),
        org_unit=params.get("org_unit", ""),
    )
    page = Paginator(persons, 50).get_page(params.get("page"))
    return render(request, "registry/person_list.html", {"page": page, "q": params.get("q", "")})


@_doors
def person_detail(request, pk: int):
    reach = reach_for(request.user)
    person = person_for_user(user=request.user, pk=pk, reach=reach)
    revealed = None
    if request.method == "POST":
        revealed = person_reveal(user=request.user, person=person, reach=reach)
    elif request.method != "GET":
        return HttpResponseNotAllowed(["GET", "POST"])
    context = {
        "person": person,
        "card": getattr(person, "card_account", None),
        "certificates": person.certificates.order_by("-issued_on", "-pk"),
        "revealed": revealed,
        "may_reveal": can_see_full_id(reach, person) or can_see_full_card(reach, person),
        "may_change": can_write_person(reach, person),
    }
    return render(request, "registry/person_detail.html", context)


def _may_import(user) -> bool:
    reach = reach_for(user)
    return reach.is_superuser or bool(reach.paths(conf.get("IMPORT_ROLES")))


@_doors
def import_list(request):
    if not _may_import(request.user):
        raise NotAllowed(gettext("Only county staff import persons and certificates."))
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise InvalidInput(gettext("Choose a file to upload."))
            batch = import_services.import_batch_create(
                user=request.user, file_name=upload.name, chunks=upload.chunks()
            )
        except InvalidInput as exc:
            messages.error(request, exc.message)
            return redirect("registry:imports")
        return redirect("registry:import", pk=batch.pk)
    batches = ImportBatch.objects.filter(uploaded_by=request.user)[:20]
    return render(request, "registry/import_list.html", {"batches": batches, "headers": HEADERS})


def _own_batch(request, pk: int) -> ImportBatch:
    batch = ImportBatch.objects.filter(pk=pk).first()
    if batch is None or (batch.uploaded_by_id != request.user.pk and not request.user.is_superuser):
        raise NotFound(gettext("No such import."))
    return batch


@_doors
def import_detail(request, pk: int):
    batch = _own_batch(request, pk)
    problems = ImportRow.objects.filter(batch=batch, outcome=ImportRowOutcome.INVALID)
    page = Paginator(problems.order_by("row_number"), 100).get_page(request.GET.get("page"))
    running = batch.state in (ImportState.UPLOADED, ImportState.CHECKING, ImportState.COMMITTING)
    context = {"batch": batch, "page": page, "running": running, "states": ImportState}
    return render(request, "registry/import_detail.html", context)


@require_POST
@_doors
def import_commit(request, pk: int):
    batch = _own_batch(request, pk)
    try:
        import_services.import_batch_commit(user=request.user, batch=batch)
    except WorkflowError as exc:
        if isinstance(exc, NotAllowed | NotFound):
            raise
        messages.error(request, exc.message)
    return redirect("registry:import", pk=batch.pk)


@_doors
def export(request):
    rows = exports.export_rows(user=request.user, org_unit=request.GET.get("org_unit", ""))
    response = StreamingHttpResponse(exports.csv_chunks(rows), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="registry.csv"'
    return response


def _day(text: str):
    try:
        return parse_date(text.strip()) if text else None
    except ValueError:  # well-formed but impossible (2025-13-45): no filter
        return None


@_doors
def reveal_list(request):
    """Who saw whose full number, when (auditors; the selector checks)."""
    since, until = _day(request.GET.get("since", "")), _day(request.GET.get("until", ""))
    views = full_number_views(user=request.user, since=since, until=until)
    context = {"views": views, "since": since, "until": until}
    return render(request, "registry/reveal_list.html", context)


IMPORT_NOTES = {
    "citizen_id": "18 位公民身份号码，末位可为 X",
    "household_code": "户籍所在村（社区）的 12 位统计用区划代码",
    "low_income_status": "低保、特困或边缘，没有则留空",
    "certificate_number": "第二代残疾人证号（身份证号 + 类别 + 等级，补发加 B1、B2…）",
    "category": "视力、听力、言语、肢体、智力、精神或多重",
    "grade": "一级至四级",
}


@_doors
def import_template(request):
    """The person import's blank .xlsx: its header row is what the import reads."""
    if not _may_import(request.user):
        raise NotAllowed("only county staff import persons and certificates")
    content = template_workbook("人员和残疾人证", COLUMNS, IMPORT_NOTES)
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = (
        "attachment; filename*=UTF-8''%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx"
    )
    return response
