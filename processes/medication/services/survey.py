"""The survey of new applicants (新增对象摸底): township staff add applicants one by one or import
a list; each is checked against the cycle's rules at once and the reasons are shown."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from registry.identity import IdentityError, citizen_id_parse
from registry.imports.readers import FileRefused
from registry.models import Person
from workflows.exceptions import Conflict, InvalidInput

from .. import files
from ..models import (
    CycleState,
    EntrySource,
    EntryState,
    FlagKind,
    MedicationCycle,
    MedicationEntry,
    TownshipList,
    TownshipListState,
)
from ..rules import Finding, findings_for
from .common import (
    cycle_for_instance,
    fsm,
    locked_cycle,
    no_list_message,
    record,
    require_state,
    require_township_staff,
    township_of,
)
from .facts import person_facts
from .reference import reference_for


def _open_survey(cycle_id: int, township_code: str, user) -> tuple[MedicationCycle, TownshipList]:
    cycle = locked_cycle(cycle_id)
    require_state(cycle, CycleState.SURVEYING)
    township_list = (
        TownshipList.objects.select_related("township")
        .filter(cycle=cycle, township__code=township_code)
        .first()
    )
    if township_list is None:
        message = no_list_message(cycle, township_code)
        raise InvalidInput(message, {"township": [message]})
    require_township_staff(user, township_list.township)
    if township_list.state != TownshipListState.SURVEYING:
        raise Conflict(
            _("The survey of %(township)s was submitted already.")
            % {"township": township_list.township.name}
        )
    return cycle, township_list


def _parse_id(raw) -> str:
    try:
        return files.citizen_id(raw)
    except IdentityError as exc:
        raise InvalidInput(exc.message, {"citizen_id": [exc.message]}) from None


def _registered(citizen_ids: list[str]) -> dict[str, Person]:
    persons = Person.objects.filter(citizen_id__in=citizen_ids)
    return {p.citizen_id: p for p in persons.select_related("household_unit__parent")}


def _require_in(township, person: Person | None, citizen_id: str, name: str) -> Person:
    """``person`` is registered and lives in ``township``; InvalidInput saying why not."""
    if person is None:
        message = _(
            "%(id)s is not in the registry: register the person and the certificate first."
        ) % {"id": citizen_id}
        raise InvalidInput(message, {"citizen_id": [message]})
    if name and name.strip() != person.name:
        message = _("The registry has %(id)s under the name %(name)s.") % {
            "id": citizen_id,
            "name": person.name,
        }
        raise InvalidInput(message, {"name": [message]})
    home = township_of(person.household_unit)
    if home is None or home.pk != township.pk:
        message = _("%(name)s's household is in %(home)s, not in %(township)s.") % {
            "name": person.name,
            "home": home.name if home else person.household_unit.name,
            "township": township.name,
        }
        raise InvalidInput(message, {"citizen_id": [message]})
    return person


def _listed(cycle, person_ids) -> dict[int, list[MedicationEntry]]:
    listed: dict[int, list[MedicationEntry]] = {}
    entries = (
        MedicationEntry.objects.filter(cycle=cycle, person_id__in=person_ids)
        .exclude(state=EntryState.WITHDRAWN)
        .select_related("township")
    )
    for entry in entries:
        listed.setdefault(entry.person_id, []).append(entry)
    return listed


def _duplicate(others: list[MedicationEntry]) -> Finding:
    listed = "、".join(f"{e.township.name}（{e.get_source_display()}）" for e in others)
    return Finding(FlagKind.DUPLICATE_ID, _("already listed: %(where)s") % {"where": listed})


def _new_entry(cycle, township_list, person, *, user, note: str, checks, others) -> MedicationEntry:
    """An unsaved new-applicant entry with its check results; refused if already surveyed."""
    if any(e.source == EntrySource.NEW for e in others):
        message = _("%(name)s is already in this year's survey list.") % {"name": person.name}
        raise InvalidInput(message, {"citizen_id": [message]})
    findings = list(checks(person))
    if others:
        findings.append(_duplicate(others))
    return MedicationEntry(
        cycle=cycle,
        person=person,
        township=township_list.township,
        source=EntrySource.NEW,
        amount=cycle.amount,
        survey_check=[f.as_dict() for f in findings],
        note=note[:200],
        added_by=user,
    )


def _checker(cycle: MedicationCycle, citizen_ids: list[str], person_ids: list[int]):
    facts = person_facts(person_ids)
    reference = reference_for(cycle, citizen_ids=citizen_ids)
    today = timezone.localdate()
    return lambda person: findings_for(facts[person.pk], cycle.rules, reference, today)


def survey_add(
    *, user, cycle_id: int, township_code: str, citizen_id: str, name: str = "", phone="", note=""
) -> MedicationEntry:
    """Add one new applicant to a township's survey list; ``entry.survey_check`` holds the
    reasons the applicant does not qualify (empty: eligible)."""
    with transaction.atomic():
        cycle, township_list = _open_survey(cycle_id, township_code, user)
        number = _parse_id(citizen_id)
        person = _registered([number]).get(number)
        person = _require_in(township_list.township, person, number, name)
        checks = _checker(cycle, [number], [person.pk])
        others = _listed(cycle, [person.pk]).get(person.pk, [])
        entry = _new_entry(
            cycle,
            township_list,
            person,
            user=user,
            note=str(note or ""),
            checks=checks,
            others=others,
        )
        entry.save()
        record(
            cycle,
            actor=user,
            change="applicant_added",
            entries=[entry.pk],
            township=township_code,
            reasons=[c["kind"] for c in entry.survey_check],
        )
    return entry


@dataclass
class ImportReport:
    file_name: str
    rows: list[dict] = field(default_factory=list)  # row, citizen_id, name, outcome, messages
    added: int = 0
    refused: int = 0
    eligible: int = 0


def survey_import(*, user, cycle_id: int, township_code: str, upload) -> ImportReport:
    """Import a township's list (姓名, 公民身份号码, 联系电话, 备注): every row is reported; rows
    with an invalid ID, a person outside the township or not registered are not added.
    A fixed number of queries whatever the number of rows."""
    with files.Upload(upload) as stored:
        report = ImportReport(stored.name)
        try:
            rows = list(stored.rows(files.survey_layout()))
        except FileRefused as exc:
            raise files.refused(exc) from None
        with transaction.atomic():
            cycle, township_list = _open_survey(cycle_id, township_code, user)
            ids = []
            for _number, values in rows:
                try:
                    ids.append(citizen_id_parse(values.get("citizen_id")).number)
                except IdentityError:
                    continue
            persons = _registered(ids)
            person_ids = [p.pk for p in persons.values()]
            context = _ImportContext(
                cycle,
                township_list,
                user,
                persons,
                _listed(cycle, person_ids),
                _checker(cycle, ids, person_ids),
            )
            for number, values in rows:
                _import_row(report, number, values, context)
            for start in range(0, len(context.new), 2000):
                MedicationEntry.objects.bulk_create(context.new[start : start + 2000])
            if context.new:
                record(
                    cycle,
                    actor=user,
                    change="applicants_imported",
                    file=stored.name,
                    sha256=stored.sha256,
                    township=township_code,
                    entries=[e.pk for e in context.new],
                    refused_rows=[r["row"] for r in report.rows if r["outcome"] == "refused"],
                )
    for row in report.rows:
        row["entry"] = getattr(row.pop("_entry", None), "pk", None)
    return report


@dataclass
class _ImportContext:
    cycle: MedicationCycle
    township_list: TownshipList
    user: object
    persons: dict
    listed: dict
    checks: object
    new: list = field(default_factory=list)
    rows_by_id: dict = field(default_factory=dict)


def _import_row(report: ImportReport, number: int, values: dict, context: _ImportContext) -> None:
    name = files.text(values.get("name"))
    shown = {"row": number, "citizen_id": files.text(values.get("citizen_id")), "name": name}
    try:
        citizen_id = _parse_id(values.get("citizen_id"))
        if citizen_id in context.rows_by_id:
            message = _("repeats row %(row)s of this file") % {
                "row": context.rows_by_id[citizen_id]
            }
            raise InvalidInput(message)
        context.rows_by_id[citizen_id] = number
        person = _require_in(
            context.township_list.township, context.persons.get(citizen_id), citizen_id, name
        )
        entry = _new_entry(
            context.cycle,
            context.township_list,
            person,
            user=context.user,
            note=files.text(values.get("note")),
            checks=context.checks,
            others=context.listed.get(person.pk, []),
        )
    except InvalidInput as exc:
        report.refused += 1
        report.rows.append({**shown, "outcome": "refused", "messages": [exc.message]})
        return
    context.new.append(entry)
    report.added += 1
    reasons = [c["detail"] for c in entry.survey_check]
    report.eligible += not reasons
    outcome = "eligible" if not reasons else "not_eligible"
    report.rows.append({**shown, "outcome": outcome, "messages": reasons, "_entry": entry})


def survey_withdraw(*, user, entry_id: int, reason: str = "") -> MedicationEntry:
    """Take a new applicant off the survey list again (before the survey is submitted)."""
    with transaction.atomic():
        entry = MedicationEntry.objects.select_related("township").filter(pk=entry_id).first()
        if entry is None:
            raise InvalidInput(_("No such entry."))
        cycle, _list = _open_survey(entry.cycle_id, entry.township.code, user)
        entry = MedicationEntry.objects.select_for_update().get(pk=entry_id)
        if entry.source != EntrySource.NEW:
            raise Conflict(_("Only new applicants can be taken off the survey list."))
        fsm(entry.withdraw, _("This entry cannot be withdrawn any more."))
        entry.save()
        record(
            cycle,
            actor=user,
            change="applicant_withdrawn",
            entries=[entry.pk],
            reason=str(reason or "")[:500],
        )
    return entry


def on_survey_submitted(*, task, instance, user, data: dict) -> dict:
    """Completion hook of a township's survey task: its survey list is final."""
    cycle = cycle_for_instance(instance)
    _cycle, township_list = _open_survey(cycle.pk, task.scope, user)
    township_list.submit_survey(user=user)
    township_list.save()
    added = cycle.entries.filter(township=township_list.township, source=EntrySource.NEW)
    count = added.exclude(state=EntryState.WITHDRAWN).count()
    record(cycle, actor=user, change="survey_submitted", township=task.scope, new_applicants=count)
    return {}
