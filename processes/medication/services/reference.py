"""Reference data for the comparison: the civil-affairs low-income list, deaths and household
moves (and, for a county's first cycle in Fuzhu, last year's recipient list), uploaded by county
staff as Excel/CSV. A file is checked as a whole: one bad row refuses it, nothing is half-kept."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from registry.identity import IdentityError
from registry.imports.readers import FileRefused
from registry.imports.rows import LOW_INCOME_WORDS
from registry.models import Person
from workflows.exceptions import InvalidInput

from .. import files
from ..models import (
    CycleState,
    EntrySource,
    EntryState,
    MedicationEntry,
    ReferenceFile,
    ReferenceKind,
    ReferenceRow,
)
from ..rules import Reference, RowRef
from .common import chunks, locked_cycle, record, require_county_staff, require_state

MAX_PROBLEMS = 20


def _clean_row(kind: str, values: dict) -> tuple[str, dict]:
    """(citizen ID, data) of one row; ValueError/IdentityError with the reason otherwise."""
    citizen_id = files.citizen_id(values.get("citizen_id"))
    data: dict = {}
    if kind == ReferenceKind.LOW_INCOME:
        word = files.text(values.get("status"))
        if word not in LOW_INCOME_WORDS:
            raise ValueError(_("unknown 困难类别 '%(word)s': use 低保 or 特困") % {"word": word})
        data["status"] = LOW_INCOME_WORDS[word]
        data["since"] = files.iso(files.day(values.get("since")))
        data["until"] = files.iso(files.day(values.get("until")))
    elif kind in (ReferenceKind.DEATHS, ReferenceKind.MOVES):
        moment = files.day(values.get("date"))
        if moment is None:
            raise ValueError(_("the date is empty"))
        data["date"] = moment.isoformat()
        if values.get("destination"):
            data["destination"] = files.text(values["destination"])[:100]
    elif kind == ReferenceKind.PREVIOUS and values.get("amount") not in (None, ""):
        data["amount"] = str(files.money(values["amount"]))
    return citizen_id, data


def _read(upload: files.Upload, kind: str) -> list[ReferenceRow]:
    rows, problems = [], []
    try:
        for number, values in upload.rows(files.reference_layout(kind)):
            try:
                citizen_id, data = _clean_row(kind, values)
            except (IdentityError, ValueError) as exc:
                problems.append(_("row %(row)s: %(problem)s") % {"row": number, "problem": exc})
                continue
            name = files.text(values.get("name"))[:50]
            rows.append(
                ReferenceRow(row_number=number, citizen_id=citizen_id, name=name, data=data)
            )
    except FileRefused as exc:
        raise files.refused(exc) from None
    if problems:
        shown = problems[:MAX_PROBLEMS]
        more = len(problems) - len(shown)
        message = _("The file was not used: %(n)s row(s) have problems. ") % {
            "n": len(problems)
        } + files.joined(shown)
        if more:
            message += _(" … and %(n)s more.") % {"n": more}
        raise InvalidInput(message, {"file": shown})
    if not rows:
        message = _("The file has no data rows.")
        raise InvalidInput(message, {"file": [message]})
    return rows


def reference_upload(*, user, cycle_id: int, kind: str, upload) -> ReferenceFile:
    """Store a reference file of ``kind`` for the cycle's comparison (county staff, before the
    comparison). The same file twice is refused, saying when it was uploaded."""
    if kind not in ReferenceKind.values:
        message = _("Choose what the file holds.")
        raise InvalidInput(message, {"kind": [message]})
    with files.Upload(upload) as stored:
        rows = _read(stored, kind)
        with transaction.atomic():
            cycle = locked_cycle(cycle_id)
            require_county_staff(user, cycle)
            require_state(cycle, CycleState.SURVEYING)
            earlier = ReferenceFile.objects.filter(cycle=cycle, kind=kind, sha256=stored.sha256)
            if earlier.exists():
                first = earlier.first()
                message = _(
                    "This file was already uploaded on %(day)s as “%(name)s”; nothing changed."
                ) % {"day": first.uploaded_at.date().isoformat(), "name": first.file_name}
                raise InvalidInput(message, {"file": [message]})
            reference = ReferenceFile.objects.create(
                cycle=cycle,
                kind=kind,
                file_name=stored.name,
                sha256=stored.sha256,
                row_count=len(rows),
                uploaded_by=user,
            )
            for row in rows:
                row.file = reference
            for chunk in chunks(rows, 2000):
                ReferenceRow.objects.bulk_create(chunk)
            added = _previous_recipients(cycle, rows) if kind == ReferenceKind.PREVIOUS else 0
            record(
                cycle,
                actor=user,
                change="reference_uploaded",
                file=reference.pk,
                kind=kind,
                name=stored.name,
                sha256=stored.sha256,
                rows=len(rows),
                continuing_added=added,
            )
    return reference


def _previous_recipients(cycle, rows: list[ReferenceRow]) -> int:
    """Last year's list (a county's first cycle here): each person listed becomes a continuing
    entry, once. Persons the registry does not hold refuse the file."""
    from .common import township_of

    wanted = {row.citizen_id: row for row in rows}
    persons = {
        p.citizen_id: p
        for p in Person.objects.filter(citizen_id__in=list(wanted)).select_related(
            "household_unit__parent"
        )
    }
    unknown = [r for cid, r in wanted.items() if cid not in persons]
    if unknown:
        shown = [
            _("row %(row)s: %(id)s is not in the registry")
            % {"row": r.row_number, "id": r.citizen_id}
            for r in unknown[:MAX_PROBLEMS]
        ]
        message = _("The file was not used: register these persons first. ") + files.joined(shown)
        raise InvalidInput(message, {"file": shown})
    listed = set(
        cycle.entries.filter(source=EntrySource.CONTINUING)
        .exclude(state=EntryState.WITHDRAWN)
        .values_list("person_id", flat=True)
    )
    new = []
    for person in persons.values():
        township = township_of(person.household_unit)
        if person.pk in listed or township is None:
            continue
        listed.add(person.pk)
        new.append(
            MedicationEntry(
                cycle=cycle,
                person=person,
                township=township,
                source=EntrySource.CONTINUING,
                amount=cycle.amount,
            )
        )
    for chunk in chunks(new, 2000):
        MedicationEntry.objects.bulk_create(chunk)
    return len(new)


def reference_for(cycle, *, citizen_ids: list[str] | None = None) -> Reference:
    """The cycle's reference files indexed by citizen ID (only ``citizen_ids`` if given)."""
    reference = Reference()
    names = dict(ReferenceFile.objects.filter(cycle=cycle).values_list("pk", "file_name"))
    kinds = dict(ReferenceFile.objects.filter(cycle=cycle).values_list("pk", "kind"))
    reference.low_income_files = sorted(
        (pk, names[pk]) for pk, kind in kinds.items() if kind == ReferenceKind.LOW_INCOME
    )
    rows = ReferenceRow.objects.filter(file__cycle=cycle).exclude(file__kind=ReferenceKind.PREVIOUS)
    if citizen_ids is not None:
        rows = rows.filter(citizen_id__in=citizen_ids)
    targets = {
        ReferenceKind.DEATHS: reference.deaths,
        ReferenceKind.MOVES: reference.moves,
        ReferenceKind.LOW_INCOME: reference.low_income,
    }
    values = rows.order_by("pk").values_list("file_id", "row_number", "citizen_id", "data")
    for file_id, row_number, citizen_id, data in values.iterator(chunk_size=5000):
        targets[kinds[file_id]][citizen_id] = RowRef(file_id, names[file_id], row_number, data)
    return reference
