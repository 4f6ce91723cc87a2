"""Writing checked rows: upsert persons by citizen ID, then their current certificates."""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext

from ..models import (
    LIVE_STATUSES,
    Certificate,
    ImportRowOutcome,
    LifeStatus,
    OrgUnit,
    Person,
    RegistryEventKind,
)
from ..services.audit import registry_event_append, subject_of
from ..services.certificates import status_on, valid_until_for

PERSON_FIELDS = (
    "name",
    "household_unit_id",
    "phone",
    "low_income_status",
    "low_income_since",
    "low_income_until",
    "life_status",
    "deceased_on",
    "moved_out_on",
)


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _person_values(data: dict, units: dict[str, int]) -> dict:
    deceased_on = _day(data.get("deceased_on"))
    return {
        "name": data["name"],
        "household_unit_id": units[data["household_code"]],
        "phone": data.get("phone", ""),
        "low_income_status": data["low_income_status"],
        "low_income_since": _day(data.get("low_income_since")),
        "low_income_until": _day(data.get("low_income_until")),
        "life_status": LifeStatus.DECEASED if deceased_on else LifeStatus.ALIVE,
        "deceased_on": deceased_on,
        "moved_out_on": _day(data.get("moved_out_on")),
    }


def apply_rows(rows, *, actor) -> dict[str, int]:
    """Upsert one chunk (the caller holds a transaction); sets each row's outcome."""
    now, today = timezone.now(), timezone.localdate()
    codes = {r.data["household_code"] for r in rows}
    units = dict(OrgUnit.objects.filter(code__in=codes).values_list("code", "pk"))
    persons = {
        p.citizen_id: p
        for p in Person.objects.select_for_update().filter(
            citizen_id__in=[r.citizen_id for r in rows]
        )
    }
    created, changed = [], []
    for row in rows:
        values = _person_values(row.data, units)
        person = persons.get(row.citizen_id)
        if person is None:
            person = Person(
                citizen_id=row.citizen_id,
                birth_date=date.fromisoformat(row.data["birth_date"]),
                sex=row.data["sex"],
                created_at=now,
                updated_at=now,
                **values,
            )
            persons[row.citizen_id] = person
            created.append(person)
            row.outcome = ImportRowOutcome.CREATED
            continue
        differs = {k: v for k, v in values.items() if getattr(person, k) != v}
        if differs:
            for key, value in differs.items():
                setattr(person, key, value)
            person.updated_at = now
            changed.append(person)
            row.outcome = ImportRowOutcome.UPDATED
        else:
            row.outcome = ImportRowOutcome.UNCHANGED
    Person.objects.bulk_create(created)
    Person.objects.bulk_update(changed, [*PERSON_FIELDS, "updated_at"])
    _apply_certificates(rows, persons, actor=actor, today=today)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for row in rows:
        counts[row.outcome] += 1
    return counts


def _apply_certificates(rows, persons: dict[str, Person], *, actor, today: date) -> None:
    holders = [persons[r.citizen_id].pk for r in rows if r.data.get("certificate_number")]
    live = {
        c.person_id: c
        for c in Certificate.objects.select_for_update().filter(
            person_id__in=holders, status__in=LIVE_STATUSES
        )
    }
    new, redated = [], []
    for row in rows:
        data = row.data
        if not data.get("certificate_number"):
            continue
        person = persons[row.citizen_id]
        issued_on = date.fromisoformat(data["issued_on"])
        current = live.get(person.pk)
        fields = {
            "category": data["category"],
            "grade": data["grade"],
            "included_categories": data["included_categories"],
        }
        if current is not None and current.number == data["certificate_number"]:
            if current.issued_on == issued_on and all(
                getattr(current, k) == v for k, v in fields.items()
            ):
                continue
            current.issued_on, current.valid_until = issued_on, valid_until_for(issued_on)
            for key, value in fields.items():
                setattr(current, key, value)
            redated.append(current)
        else:
            if current is not None:
                _supersede(current, actor=actor, by=data["certificate_number"])
            valid_until = valid_until_for(issued_on)
            new.append(
                Certificate(
                    number=data["certificate_number"],
                    person=person,
                    issued_on=issued_on,
                    valid_until=valid_until,
                    status=status_on(valid_until, today),
                    replaces=current,
                    **fields,
                )
            )
        if row.outcome == ImportRowOutcome.UNCHANGED:
            row.outcome = ImportRowOutcome.UPDATED
    Certificate.objects.bulk_update(
        redated, ["issued_on", "valid_until", "category", "grade", "included_categories"]
    )
    Certificate.objects.bulk_create(new)


def _supersede(certificate: Certificate, *, actor, by: str) -> None:
    before = certificate.status
    certificate.supersede(
        reason=gettext("Replaced by certificate %(number)s (import).") % {"number": by}
    )
    certificate.save()
    registry_event_append(
        actor=actor,
        kind=RegistryEventKind.CERTIFICATE_REISSUED,
        subject=subject_of(certificate),
        payload={"number": certificate.number, "from": before, "to": certificate.status, "by": by},
    )
