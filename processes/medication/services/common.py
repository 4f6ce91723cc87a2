"""What every stage shares: the cycle's audit stream, role checks, locking, transitions."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.utils.translation import gettext as _

from registry.models import OrgUnit
from workflows.exceptions import Conflict, InvalidInput, NotAllowed, NotFound
from workflows.services.access import user_has_role
from workflows.services.audit import audit_record_change

from .. import conf
from ..models import MedicationCycle

PROCESS_KEY = "medication_subsidy_cycle"


def stream(cycle: MedicationCycle | int) -> str:
    return f"medication:{cycle if isinstance(cycle, int) else cycle.pk}"


def record(cycle: MedicationCycle, *, actor, change: str, **details) -> None:
    """One event on the cycle's own hash chain: who (actor), what (change), why (details)."""
    audit_record_change(
        stream=stream(cycle),
        actor=actor,
        change=change,
        payload={"cycle": cycle.pk, "year": cycle.year, **details},
    )


def require_role(user, role_setting: str, unit: OrgUnit, message: str) -> None:
    """The user holds the configured role reaching ``unit`` (the system, user=None, always may)."""
    if user is None:
        return
    if not user_has_role(user, conf.get(role_setting), scope_path=unit.path):
        raise NotAllowed(message)


def require_county_staff(user, cycle: MedicationCycle) -> None:
    require_role(
        user,
        "APPROVAL_ROLE",
        cycle.county,
        _("Only county federation staff may do this for the county's cycle."),
    )


def require_township_staff(user, township: OrgUnit) -> None:
    require_role(
        user,
        "REVIEW_ROLE",
        township,
        _("Only staff of %(township)s may change its list.") % {"township": township.name},
    )


def locked_cycle(cycle_id: int) -> MedicationCycle:
    """The cycle row, locked for this transaction (bulk actions on one cycle go one at a time)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("locked_cycle needs a transaction")
    cycle = MedicationCycle.objects.select_for_update().filter(pk=cycle_id).first()
    if cycle is None:
        raise NotFound(_("This medication-subsidy cycle does not exist."))
    return cycle


def require_state(cycle: MedicationCycle, *states: str) -> None:
    if cycle.state not in states:
        raise Conflict(
            _("The %(year)s cycle is at the stage “%(state)s”; this cannot be done now.")
            % {"year": cycle.year, "state": cycle.get_state_display()}
        )


def fsm(action: Callable[[], object], conflict: str) -> None:
    """Run a django-fsm transition; a transition not allowed from the current state is a
    Conflict with ``conflict`` as its message."""
    try:
        action()
    except Exception as exc:
        if type(exc).__name__ != "TransitionNotAllowed":
            raise
        raise Conflict(conflict) from None


def no_list_message(cycle: MedicationCycle, code: str) -> str:
    """Why a township code is refused: the cycle has no list for it (the unit named)."""
    unit = OrgUnit.objects.filter(code=code).first()
    return _("%(unit)s has no list in the %(year)s cycle.") % {
        "unit": unit.name if unit is not None else code,
        "year": cycle.year,
    }


def not_a_township(cycle: MedicationCycle, code: str) -> NotFound:
    return NotFound(no_list_message(cycle, code))


def required_text(value, field: str, message: str) -> str:
    text = str(value or "").strip()
    if not text:
        raise InvalidInput(message, {field: [message]})
    return text[:1000]


def township_of(unit: OrgUnit) -> OrgUnit | None:
    """The township/street a village or community belongs to (the unit itself for a township)."""
    from registry.models import OrgUnitLevel

    if unit.level == OrgUnitLevel.TOWNSHIP:
        return unit
    if unit.level == OrgUnitLevel.VILLAGE and unit.parent_id:
        return unit.parent
    return None


def chunks(items: list, size: int = 1000):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def cycle_for_instance(instance) -> MedicationCycle:
    """The cycle a process instance runs (its ``cycle_id``), locked for this transaction."""
    cycle_id = (instance.variables or {}).get("cycle_id")
    found = MedicationCycle.objects.filter(instance=instance).values_list("pk", flat=True).first()
    if found is None and cycle_id is None:
        raise NotFound(_("This procedure runs no medication-subsidy cycle."))
    return locked_cycle(found or int(cycle_id))
