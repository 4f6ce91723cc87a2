"""Persons: registering, changing, full views (audited), card accounts, institution assignments."""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from workflows.exceptions import InvalidInput, NotFound

from .. import conf
from ..identity import IdentityError, card_number_check, citizen_id_parse
from ..masking import PHONE, mask
from ..models import (
    KIND_LEVEL,
    CardAccount,
    CardKind,
    CardStatus,
    InstitutionAssignment,
    LifeStatus,
    LowIncomeStatus,
    OrgUnit,
    OrgUnitLevel,
    Person,
    RegistryEventKind,
)
from .access import (
    Reach,
    can_read_person,
    can_see_full_card,
    can_see_full_id,
    can_write_person,
    reach_for,
    require,
)
from .audit import registry_event_append, subject_of

# The fields person_update may change; citizen ID, birth date and sex never change.
CHANGEABLE = (
    "name",
    "phone",
    "low_income_status",
    "low_income_since",
    "low_income_until",
    "publicly_funded",
    "deceased_on",
    "moved_out_on",
)


def _label(name: str) -> str:
    """A field's label as a clerk knows it (the model's verbose name), else the name."""
    try:
        return str(Person._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def household_unit_check(unit: OrgUnit | None, code: str = "") -> OrgUnit:
    """A household is registered in a village or community."""
    if unit is None:
        message = gettext("No village or community has the code %(code)s.") % {"code": code or "—"}
        raise InvalidInput(message, {"household_unit": [message]})
    if KIND_LEVEL[unit.kind] != OrgUnitLevel.VILLAGE:
        message = gettext(
            "A household is registered in a village or community; %(unit)s is not one."
        ) % {"unit": unit.name}
        raise InvalidInput(message, {"household_unit": [message]})
    return unit


def person_fields_check(fields: dict) -> dict:
    """Normalise and check the changeable fields; raises InvalidInput naming the field."""
    clean = dict(fields)
    if "name" in clean:
        clean["name"] = (clean["name"] or "").strip()
        if not clean["name"]:
            required = gettext("This field is required.")
            raise InvalidInput(gettext("Enter the person's name."), {"name": [required]})
    if "phone" in clean:
        clean["phone"] = (clean["phone"] or "").strip()
    status = clean.get("low_income_status")
    if status is not None and status not in LowIncomeStatus.values:
        message = gettext("Choose one of: %(choices)s.") % {
            "choices": "、".join(str(label) for label in LowIncomeStatus.labels)
        }
        raise InvalidInput(message, {"low_income_status": [message]})
    since, until = clean.get("low_income_since"), clean.get("low_income_until")
    if since and until and until < since:
        message = gettext(
            "The low-income status ends (%(until)s) before it starts (%(since)s)."
        ) % {
            "until": until,
            "since": since,
        }
        raise InvalidInput(message, {"low_income_until": [message]})
    today = timezone.localdate()
    for name in ("deceased_on", "moved_out_on"):
        day = clean.get(name)
        if day is not None and day > today:
            message = gettext("%(field)s %(day)s is in the future.") % {
                "field": Person._meta.get_field(name).verbose_name,
                "day": day,
            }
            raise InvalidInput(message, {name: [message]})
    return clean


def _apply(person: Person, clean: dict) -> dict:
    """Set the fields that differ; returns {field: [before, after]}."""
    changes = {}
    for name, value in clean.items():
        if getattr(person, name) != value:
            changes[name] = [getattr(person, name), value]
            setattr(person, name, value)
    if "deceased_on" in clean:
        person.life_status = LifeStatus.DECEASED if person.deceased_on else LifeStatus.ALIVE
    return changes


@transaction.atomic
def person_create(*, user, citizen_id: str, name: str, household_unit: OrgUnit, **fields) -> Person:
    """Register a person; birth date and sex are read from the ID."""
    reach = reach_for(user) if user is not None else None
    try:
        parsed = citizen_id_parse(citizen_id)
    except IdentityError as exc:
        raise InvalidInput(exc.message, {"citizen_id": [exc.message]}) from None
    household_unit_check(household_unit)
    if Person.objects.filter(citizen_id=parsed.number).exists():
        message = gettext("A person with this citizen ID is already registered.")
        raise InvalidInput(message, {"citizen_id": [message]})
    person = Person(
        citizen_id=parsed.number,
        birth_date=parsed.birth_date,
        sex=parsed.sex,
        household_unit=household_unit,
    )
    if reach is not None:
        require(
            can_write_person(reach, person),
            gettext("You may not register persons in %(unit)s.") % {"unit": household_unit.name},
        )
    _apply(person, person_fields_check({"name": name, **fields}))
    person.save()
    registry_event_append(
        actor=user,
        kind=RegistryEventKind.PERSON_CREATED,
        subject=subject_of(person),
        payload={"household_unit": household_unit.code},
    )
    return person


@transaction.atomic
def person_update(*, user, person: Person, reach: Reach | None = None, **fields) -> Person:
    """Change a person's changeable fields (and household unit), audited with before/after."""
    reach = reach or reach_for(user)
    if not can_read_person(reach, person):
        raise NotFound(gettext("No such person."))
    require(
        can_write_person(reach, person),
        gettext("You may read %(name)s but not change them.") % {"name": person.name},
    )
    unknown = set(fields) - set(CHANGEABLE) - {"household_unit"}
    if unknown:
        raise InvalidInput(
            gettext("These fields cannot be changed: %(fields)s.")
            % {"fields": "、".join(_label(name) for name in sorted(unknown))}
        )
    person = Person.objects.select_for_update().get(pk=person.pk)
    changes = {}
    unit = fields.pop("household_unit", None)
    if unit is not None and unit.pk != person.household_unit_id:
        household_unit_check(unit)
        require(
            reach.reaches(unit.path, conf.get("WRITE_ROLES")),
            gettext("You may not move %(name)s to %(unit)s: it is outside your area.")
            % {"name": person.name, "unit": unit.name},
        )
        changes["household_unit"] = [person.household_unit.code, unit.code]
        person.household_unit = unit
    changes.update(_apply(person, person_fields_check(fields)))
    if changes:
        person.updated_at = timezone.now()
        person.save()
        registry_event_append(
            actor=user,
            kind=RegistryEventKind.PERSON_CHANGED,
            subject=subject_of(person),
            payload={"changes": changes},
        )
    return person


@transaction.atomic
def person_reveal(*, user, person: Person, reach: Reach | None = None) -> dict:
    """The full citizen ID and card number, for the roles that need them; every call is recorded
    in the audit chain with what was shown."""
    reach = reach or reach_for(user)
    if not can_read_person(reach, person):
        raise NotFound(gettext("No such person."))
    full_id, full_card = can_see_full_id(reach, person), can_see_full_card(reach, person)
    require(
        full_id or full_card,
        gettext("Your role may see the numbers of %(name)s only masked.") % {"name": person.name},
    )
    card = CardAccount.objects.filter(person=person).first()
    shown = {"citizen_id": person.citizen_id if full_id else person.masked_citizen_id}
    shown["card_number"] = (
        (card.number if full_card else card.masked_number) if card is not None else ""
    )
    # The phone and the certificate numbers go with the ID: the same roles need them, to
    # call the person or check a certificate, and the one recorded click shows them all.
    shown["phone"] = person.phone if full_id else mask(person.phone, PHONE)
    shown["certificates"] = [
        {"id": c.pk, "number": c.number if full_id else c.masked_number}
        for c in person.certificates.order_by("-issued_on", "-pk")
    ]
    registry_event_append(
        actor=user,
        kind=RegistryEventKind.PERSON_REVEALED,
        subject=subject_of(person),
        payload={"citizen_id": full_id, "card_number": full_card and card is not None},
    )
    return shown


@transaction.atomic
def card_account_set(
    *, user, person: Person, kind: str, number: str, bank_name: str = "", status: str = ""
) -> CardAccount:
    reach = reach_for(user)
    if not can_read_person(reach, person):
        raise NotFound(gettext("No such person."))
    require(
        can_write_person(reach, person),
        gettext("You may read %(name)s but not change them.") % {"name": person.name},
    )
    if kind not in CardKind.values:
        message = gettext("Choose one of: %(choices)s.") % {
            "choices": "、".join(str(label) for label in CardKind.labels)
        }
        raise InvalidInput(message, {"kind": [message]})
    try:
        number = card_number_check(number)
    except IdentityError as exc:
        raise InvalidInput(exc.message, {"number": [exc.message]}) from None
    status = status or CardStatus.ACTIVE
    if status not in CardStatus.values:
        message = gettext("Choose one of: %(choices)s.") % {
            "choices": "、".join(str(label) for label in CardStatus.labels)
        }
        raise InvalidInput(message, {"status": [message]})
    card, created = CardAccount.objects.update_or_create(
        person=person,
        defaults={
            "kind": kind,
            "number": number,
            "bank_name": bank_name.strip(),
            "status": status,
            "updated_at": timezone.now(),
        },
    )
    registry_event_append(
        actor=user,
        kind=RegistryEventKind.CARD_CHANGED,
        subject=subject_of(person),
        payload={"kind": kind, "status": status, "last4": number[-4:], "created": created},
    )
    return card


@transaction.atomic
def assignment_create(
    *, user, person: Person, institution: OrgUnit, case_reference: str = ""
) -> InstitutionAssignment:
    """Assign a person's case to an institution (county staff, or the process pack's handlers
    with ``user=None``): its assessors/providers may then see the person."""
    if KIND_LEVEL[institution.kind] != OrgUnitLevel.INSTITUTION:
        message = gettext("%(unit)s is not an institution.") % {"unit": institution.name}
        raise InvalidInput(message, {"institution": [message]})
    if user is not None:
        reach = reach_for(user)
        require(
            reach.reaches(person.household_unit.path, ["county_staff"]),
            gettext("Only county staff may assign cases to institutions."),
        )
    assignment = InstitutionAssignment.objects.create(
        person=person, institution=institution, case_reference=case_reference
    )
    registry_event_append(
        actor=user,
        kind=RegistryEventKind.ASSIGNMENT_CREATED,
        subject=subject_of(person),
        payload={"institution": institution.code, "case_reference": case_reference},
    )
    return assignment


@transaction.atomic
def assignment_end(*, user, assignment: InstitutionAssignment) -> None:
    if assignment.ended_at is not None:
        return
    if user is not None:
        require(
            reach_for(user).reaches(assignment.person.household_unit.path, ["county_staff"]),
            gettext("Only county staff may end institution assignments."),
        )
    assignment.ended_at = timezone.now()
    assignment.save(update_fields=["ended_at"])
    registry_event_append(
        actor=user,
        kind=RegistryEventKind.ASSIGNMENT_ENDED,
        subject=subject_of(assignment.person),
        payload={"institution": assignment.institution.code},
    )
