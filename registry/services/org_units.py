"""Org units: creating the county tree and institutions, and finding units by code."""

from __future__ import annotations

import re

from django.db import transaction
from django.utils.translation import gettext

from workflows.exceptions import InvalidInput, NotAllowed
from workflows.scopes import area_code_path

from ..identity import IdentityError
from ..models import KIND_LEVEL, OrgUnit, OrgUnitKind, OrgUnitLevel, RegistryEventKind
from ..uscc import LENGTH as USCC_LENGTH
from ..uscc import uscc_parse
from .audit import registry_event_append, subject_of

_INSTITUTION_CODE = re.compile(r"^[0-9A-Z][0-9A-Z-]{3,31}$")
MAINTAINER_ROLES = ("county_staff", "process_owner")


def area_level(code: str) -> str | None:
    """The level a 12-digit area code names (county, township, village), or None."""
    if len(code) != 12 or not code.isdigit() or code[:6].endswith("00"):
        return None
    township, village = code[6:9], code[9:]
    if township == "000":
        return OrgUnitLevel.COUNTY if village == "000" else None
    return OrgUnitLevel.TOWNSHIP if village == "000" else OrgUnitLevel.VILLAGE


def area_parent_code(code: str) -> str:
    if area_level(code) == OrgUnitLevel.VILLAGE:
        return code[:9] + "000"
    return code[:6] + "000000"


def org_unit_by_code(code: str) -> OrgUnit:
    """The unit with this code; ``ValueError`` with a clear message when there is none."""
    unit = OrgUnit.objects.filter(code=(code or "").strip()).first()
    if unit is None:
        raise ValueError(
            gettext(
                "No county, township, village or institution has the code %(code)s; see the "
                "registry's org units."
            )
            % {"code": code}
        )
    return unit


def org_unit_path(code: str) -> str:
    """The scope path of a unit's code; codes the registry does not know stand alone."""
    path = OrgUnit.objects.filter(code=code).values_list("path", flat=True).first()
    return path if path is not None else area_code_path(code)


def _may_maintain(user, path: str) -> bool:
    if user is None or user.is_superuser:
        return True
    from workflows.services.access import grants_for

    return any(g.role in MAINTAINER_ROLES and path.startswith(g.path) for g in grants_for(user))


def _area_fields(code: str, kind: str) -> tuple[OrgUnit | None, str]:
    level = area_level(code)
    if level is None:
        message = gettext(
            "%(code)s is not a statistical area code: 12 digits, county 6 + township 3 + village 3."
        ) % {"code": code}
        raise InvalidInput(message, {"code": [message]})
    if KIND_LEVEL[OrgUnitKind(kind)] != level:
        message = gettext(
            "The code %(code)s names a unit of %(level)s, but a %(kind)s is not one."
        ) % {
            "code": code,
            "level": OrgUnitLevel(level).label,
            "kind": OrgUnitKind(kind).label,
        }
        raise InvalidInput(message, {"kind": [message]})
    if level == OrgUnitLevel.COUNTY:
        return None, area_code_path(code)
    parent_code = area_parent_code(code)
    parent = OrgUnit.objects.filter(code=parent_code).first()
    if parent is None:
        message = gettext(
            "The unit above %(code)s (%(parent)s) is not in the registry: create it first."
        ) % {"code": code, "parent": parent_code}
        raise InvalidInput(message, {"code": [message]})
    return parent, area_code_path(code)


def _name_required() -> None:
    required = gettext("This field is required.")
    raise InvalidInput(gettext("Enter the unit's name."), {"name": [required]})


def org_unit_validate(
    *, code: str, name: str, kind: str, parent_code: str = ""
) -> tuple[OrgUnit | None, str]:
    """Check a new unit; returns its parent and scope path, or raises InvalidInput."""
    if kind not in OrgUnitKind.values:
        message = gettext("Choose one of: %(choices)s.") % {
            "choices": "、".join(str(label) for label in OrgUnitKind.labels)
        }
        raise InvalidInput(message, {"kind": [message]})
    if not name:
        _name_required()
    used = OrgUnit.objects.filter(code=code).first()
    if used is not None:
        message = gettext("The code %(code)s is already used by %(unit)s.") % {
            "code": code,
            "unit": used.name,
        }
        raise InvalidInput(message, {"code": [message]})
    if KIND_LEVEL[OrgUnitKind(kind)] != OrgUnitLevel.INSTITUTION:
        return _area_fields(code, kind)
    if len(code) == USCC_LENGTH:
        # 18 characters is a unified social credit code: checked as one, the same way everywhere.
        try:
            uscc_parse(code)
        except IdentityError as exc:
            raise InvalidInput(exc.message, {"code": [exc.message]}) from None
    elif not _INSTITUTION_CODE.match(code) or (len(code) == 12 and code.isdigit()):
        message = gettext(
            "%(code)s is not an institution code: 4–32 letters and digits, not a 12-digit "
            "area code (use e.g. the unified social credit code)."
        ) % {"code": code}
        raise InvalidInput(message, {"code": [message]})
    parent = OrgUnit.objects.filter(code=(parent_code or "").strip()).first()
    if parent is None:
        message = gettext(
            "An institution needs the unit it serves: no unit has the code %(code)s."
        ) % {"code": parent_code or "—"}
        raise InvalidInput(message, {"parent_code": [message]})
    return parent, f"{parent.path}{code}."


@transaction.atomic
def org_unit_create(
    *, code: str, name: str, kind: str, parent_code: str = "", user=None
) -> OrgUnit:
    """A new area unit (its parent follows from the code) or institution (under ``parent_code``,
    normally the county). ``user=None`` is an operator or the demo loader."""
    code, name = (code or "").strip().upper(), (name or "").strip()
    parent, path = org_unit_validate(code=code, name=name, kind=kind, parent_code=parent_code)
    if not _may_maintain(user, path if parent is None else parent.path):
        raise NotAllowed(gettext("Only county staff of the county above may add org units."))
    unit = OrgUnit.objects.create(code=code, name=name, kind=kind, parent=parent, path=path)
    if user is not None:
        registry_event_append(
            actor=user,
            kind=RegistryEventKind.ORG_UNIT_CREATED,
            subject=subject_of(unit),
            payload={"code": code, "name": name, "kind": kind},
        )
    return unit


@transaction.atomic
def org_unit_update(*, unit: OrgUnit, user, name: str, is_active: bool) -> OrgUnit:
    """Rename or (de)activate a unit. Codes, kinds and places in the tree never change."""
    if not _may_maintain(user, unit.path):
        raise NotAllowed(
            gettext("Only county staff reaching %(unit)s may change it.") % {"unit": unit.name}
        )
    name = (name or "").strip()
    if not name:
        _name_required()
    before = {"name": unit.name, "is_active": unit.is_active}
    unit.name, unit.is_active = name, is_active
    unit.save(update_fields=["name", "is_active"])
    registry_event_append(
        actor=user,
        kind=RegistryEventKind.ORG_UNIT_CHANGED,
        subject=subject_of(unit),
        payload={"before": before, "after": {"name": name, "is_active": is_active}},
    )
    return unit
