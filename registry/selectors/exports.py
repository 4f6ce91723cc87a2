"""The export: the import's layout, for the persons the user may read, streamed."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.db import transaction
from django.utils.translation import gettext

from workflows.exceptions import NotAllowed

from .. import conf
from ..identity import CATEGORY_NAMES, GRADE_NAMES
from ..imports.columns import HEADERS
from ..masking import CERTIFICATE, CITIZEN_ID, PHONE, mask
from ..models import LIVE_STATUSES, Certificate, LowIncomeStatus, Person, RegistryEventKind
from ..services.access import persons_reach_q, reach_for
from ..services.audit import registry_event_append
from .persons import unit_path

LOW_INCOME_LABELS = {
    LowIncomeStatus.NONE: "无",
    LowIncomeStatus.DIBAO: "低保",
    LowIncomeStatus.TEKUN: "特困",
}


def _iso(day) -> str:
    return day.isoformat() if day else ""


def export_rows(*, user, org_unit: str = "") -> Iterator[list[str]]:
    """The header row, then one row per person with their live certificate; each export is
    recorded. Importers get full numbers (the file is the import's layout: it must import back);
    readers-of-everything (auditors) get them masked, as on every other screen."""
    reach = reach_for(user)
    importer = reach.is_superuser or bool(reach.paths(conf.get("IMPORT_ROLES")))
    if not (reach.reads_everything or importer):
        raise NotAllowed(gettext("Only county staff and auditors export the registry."))
    persons = Person.objects.select_related("household_unit").order_by("pk")
    visible = persons_reach_q(reach)
    if visible is not None:
        persons = persons.filter(visible)
    if org_unit:
        persons = persons.filter(household_unit__path__startswith=unit_path(org_unit))
    with transaction.atomic():
        registry_event_append(
            actor=user,
            kind=RegistryEventKind.EXPORT_MADE,
            payload={"org_unit": org_unit, "full_numbers": importer},
        )
    rows = _rows(persons)
    return rows if importer else (_masked(row) for row in rows)


# Which columns of the layout hold which kind of personal number.
MASKED_COLUMNS = {"公民身份号码": CITIZEN_ID, "联系电话": PHONE, "残疾人证号": CERTIFICATE}
_MASKED_AT = {HEADERS.index(header): kind for header, kind in MASKED_COLUMNS.items()}


def _masked(row: list[str]) -> list[str]:
    if row == list(HEADERS):
        return row
    return [mask(v, _MASKED_AT[i]) if i in _MASKED_AT else v for i, v in enumerate(row)]


def _rows(persons) -> Iterator[list[str]]:
    yield list(HEADERS)
    batch: list[Person] = []
    for person in persons.iterator(chunk_size=2000):
        batch.append(person)
        if len(batch) == 2000:
            yield from _with_certificates(batch)
            batch = []
    yield from _with_certificates(batch)


def _with_certificates(persons: list[Person]) -> Iterator[list[str]]:
    live = {
        c.person_id: c
        for c in Certificate.objects.filter(
            person__in=[p.pk for p in persons], status__in=LIVE_STATUSES
        )
    }
    for p in persons:
        c = live.get(p.pk)
        yield [
            p.name,
            p.citizen_id,
            p.household_unit.code,
            p.phone,
            LOW_INCOME_LABELS[p.low_income_status],
            _iso(p.low_income_since),
            _iso(p.low_income_until),
            _iso(p.deceased_on),
            _iso(p.moved_out_on),
            c.number if c else "",
            CATEGORY_NAMES[c.category] if c else "",
            GRADE_NAMES[c.grade] if c else "",
            "、".join(CATEGORY_NAMES[i] for i in c.included) if c else "",
            _iso(c.issued_on) if c else "",
        ]


def csv_chunks(rows: Iterator[list[str]]) -> Iterator[str]:
    """CSV text with a BOM so that Excel opens UTF-8 Chinese correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff"
    for row in rows:
        writer.writerow(row)
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xlsx_file(rows: Iterator[list[str]], target) -> None:
    """Write an .xlsx in openpyxl's write-only (streaming) mode; IDs as text cells."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("人员")
    for row in rows:
        sheet.append(row)
    workbook.save(target)
