"""Registering an application, and the village's and township's checks of it."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from registry.identity import IdentityError, citizen_id_parse
from registry.masking import CITIZEN_ID, mask
from registry.models import Person
from workflows.exceptions import InvalidInput, NotAllowed
from workflows.models import HumanTask, ProcessInstance
from workflows.services.access import user_has_role
from workflows.services.instances import instance_start

from .. import conf
from ..models import Device, DeviceApplication
from . import rules
from .common import (
    PROCESS_KEY,
    application_of,
    choice,
    due_dates,
    fsm,
    optional_text,
    record,
    required_text,
)


def _invalid(field: str, message: str):
    return InvalidInput(message, {field: [message]})


def _person(citizen_id: str) -> Person:
    try:
        parsed = citizen_id_parse(citizen_id)
    except IdentityError as exc:
        raise _invalid("citizen_id", exc.message) from None
    person = (
        Person.objects.select_related("household_unit").filter(citizen_id=parsed.number).first()
    )
    if person is None:
        raise _invalid(
            "citizen_id",
            _("Nobody with this citizen ID is in the registry: register the person first."),
        )
    return person


def _devices(codes) -> list[Device]:
    if isinstance(codes, str):
        codes = [c for c in codes.replace("，", ",").replace(" ", ",").split(",")]
    codes = list(dict.fromkeys(str(c).strip().upper() for c in codes or [] if str(c).strip()))
    found = {d.code: d for d in Device.objects.filter(code__in=codes, is_active=True)}
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise _invalid(
            "requested_devices",
            _("Not in the catalogue: %(codes)s.") % {"codes": "、".join(unknown)},
        )
    return [found[c] for c in codes]


def _require_registrar(user, person: Person) -> None:
    if user is None:
        raise NotAllowed(_("An application is registered by a staff member for the person."))
    path = person.household_unit.path
    if not any(user_has_role(user, role, scope_path=path) for role in conf.get("REGISTER_ROLES")):
        raise NotAllowed(
            _(
                "Only the village officer or the township staff of %(place)s may register "
                "applications for its residents."
            )
            % {"place": person.household_unit.name}
        )


def application_register(
    *,
    user,
    citizen_id: str,
    reason: str,
    requested_devices=(),
    needs_assessment: bool = False,
    contact_phone: str = "",
) -> DeviceApplication:
    """Register an application for a person in the registry who holds a valid certificate,
    for catalogue devices whose usage period has passed (or for an assessment), and start its
    case in the person's village."""
    person = _person(citizen_id)
    _require_registrar(user, person)
    today = timezone.localdate()
    if rules.valid_certificate(person, today) is None:
        raise _invalid(
            "citizen_id",
            _("%(name)s holds no valid disability certificate: renew or issue it first.")
            % {"name": person.name},
        )
    devices = _devices(requested_devices)
    if not devices and not needs_assessment:
        raise _invalid(
            "requested_devices",
            _("Choose devices from the catalogue, or tick that the person needs an assessment."),
        )
    problems = rules.usage_period_problems(person, devices, today)
    if problems:
        raise InvalidInput(" ".join(problems), {"requested_devices": problems})
    reason = required_text({"reason": reason}, "reason")
    with transaction.atomic():
        application = DeviceApplication.objects.create(
            number=f"new-{uuid.uuid4().hex[:24]}",
            person=person,
            household_unit=person.household_unit,
            registered_by=user,
            requested_devices=[d.code for d in devices],
            needs_assessment=bool(needs_assessment),
            reason=reason,
            contact_phone=str(contact_phone or "").strip()[:30],
            applicant_age=rules.age_on(person.birth_date, today),
            is_child=rules.is_child(person, today),
        )
        # Numbered by the row's id: no counter row for every registration to queue on.
        application.number = f"FZ{today.year}-{application.pk:06d}"
        instance = instance_start(
            process_key=PROCESS_KEY,
            user=user,
            business_key=application.number,
            org_unit=person.household_unit.code,
            delegate=False,
            variables={
                "application_id": application.pk,
                "number": application.number,
                "applicant_name": person.name,
                "applicant_id": mask(person.citizen_id, CITIZEN_ID),
                "is_child": application.is_child,
                "requested_devices": application.requested_devices,
                "needs_assessment": application.needs_assessment,
                **due_dates("initial_check"),
            },
        )
        application.instance = instance
        application.save(update_fields=["number", "instance"])
        record(
            application,
            actor=user,
            change="registered",
            devices=application.requested_devices,
            needs_assessment=application.needs_assessment,
            child=application.is_child,
        )
    return application


def start_from_form(*, user, org_unit, business_key, variables: dict) -> ProcessInstance:
    """Every start of the procedure (portal, API) registers an application first."""
    application = application_register(
        user=user,
        citizen_id=str(variables.get("citizen_id") or ""),
        reason=str(variables.get("reason") or ""),
        requested_devices=variables.get("requested_devices") or [],
        needs_assessment=bool(variables.get("needs_assessment")),
        contact_phone=str(variables.get("contact_phone") or ""),
    )
    return application.instance


# --- completion hooks ---------------------------------------------------------------------------

CHECK_DECISIONS = {"approve": "同意", "return": "退回补充材料", "reject": "不同意"}


def on_check(*, task: HumanTask, instance, user, data: dict) -> dict:
    """The village's initial check and the township's second check: approve, return for more
    material (the application stays as it is and the same check repeats), or reject."""
    application = application_of(instance)
    decision = choice(data, "decision", CHECK_DECISIONS)
    opinion = required_text(data, "opinion")
    if decision == "approve":
        step = {
            "initial_check": application.pass_initial_check,
            "second_check": application.pass_second_check,
        }.get(task.element_id)
        fsm(application, step or application.pass_initial_check)
        details = {}
        following = "second_check" if task.element_id == "initial_check" else "assign_assessment"
    elif decision == "return":
        missing = required_text(data, "missing_material")
        fsm(application, lambda: application.return_for_material(missing=missing))
        details, following = {"missing_material": missing}, ""
    else:
        reason = required_text(data, "reject_reason")
        fsm(application, lambda: application.reject(reason=reason))
        details, following = {"reason": reason}, ""
    application.save()
    record(
        application,
        actor=user,
        change=f"{task.element_id}:{decision}",
        opinion=opinion,
        **details,
    )
    due = due_dates(following) if following else {}
    return {
        "decision": decision,
        "opinion": opinion,
        "checked_at": task.element_id,
        **details,
        **due,
    }


def on_supplement(*, task, instance, user, data: dict) -> dict:
    """The officer adds what was asked for; the check that returned it looks again."""
    application = application_of(instance)
    note = required_text(data, "supplement_note")
    phone = optional_text(data, "contact_phone", limit=30)
    reason = optional_text(data, "reason")
    fsm(application, application.resubmit)
    application.contact_phone = phone or application.contact_phone
    application.reason = reason or application.reason
    application.save()
    record(application, actor=user, change="supplemented", note=note, back_to=application.state)
    return {
        "supplement_note": note,
        "returned_from": application.state,
        **due_dates("initial_check", "second_check"),
    }
