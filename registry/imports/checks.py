"""Checking a chunk of rows against the registry: org units, the uploader's area, conflicts."""

from __future__ import annotations

from dataclasses import dataclass

from .. import conf
from ..models import LIVE_STATUSES, Certificate, OrgUnit, OrgUnitKind, Person
from ..services.access import Reach
from .columns import BY_KEY

VILLAGE_KINDS = (OrgUnitKind.VILLAGE, OrgUnitKind.COMMUNITY)


@dataclass
class RowContext:
    units: dict[str, tuple[int, str, bool]]  # code → (id, path, is a village/community)
    paths: list[str]  # where the uploader may import ("" = everywhere)

    @classmethod
    def build(cls, reach: Reach) -> RowContext:
        units = {
            code: (pk, path, kind in VILLAGE_KINDS)
            for pk, code, path, kind in OrgUnit.objects.filter(is_active=True).values_list(
                "pk", "code", "path", "kind"
            )
        }
        paths = [""] if reach.is_superuser else reach.paths(conf.get("IMPORT_ROLES"))
        return cls(units=units, paths=paths)


def _add(row, key: str, message: str) -> None:
    row.problems.append({"column": BY_KEY[key].header, "message": message})


def annotate_chunk(rows, context: RowContext) -> None:
    """Adds unit and conflict problems to rows (in place); two queries for the whole chunk."""
    ids = [r.citizen_id for r in rows if r.citizen_id and not _id_problem(r)]
    existing = {
        p.citizen_id: p
        for p in Person.objects.filter(citizen_id__in=ids).only("pk", "citizen_id", "name")
    }
    live = {
        c.person_id: c
        for c in Certificate.objects.filter(
            person__in=[p.pk for p in existing.values()], status__in=LIVE_STATUSES
        ).only("pk", "person_id", "number", "issued_on")
    }
    for row in rows:
        _check_unit(row, context)
        person = existing.get(row.citizen_id)
        if person is None or _id_problem(row):
            continue
        name = row.data.get("name")
        if name and name != person.name:
            _add(
                row,
                "name",
                f"conflicts with the registry: ID {row.citizen_id} is registered as "
                f"{person.name}, the row says {name}; check the ID, or correct the name in "
                "the registry first",
            )
        certificate = live.get(person.pk)
        issued = row.data.get("issued_on")
        number = row.data.get("certificate_number")
        newer = certificate and issued and certificate.issued_on.isoformat() > issued
        if newer and number and number != certificate.number:
            _add(
                row,
                "certificate_number",
                f"conflicts with the registry: it holds certificate {certificate.number} "
                f"issued {certificate.issued_on.isoformat()}, newer than this row's",
            )


def _id_problem(row) -> bool:
    header = BY_KEY["citizen_id"].header
    return any(p["column"] == header for p in row.problems)


def _check_unit(row, context: RowContext) -> None:
    code = row.data.get("household_code")
    if not code or len(code) != 12:
        return
    unit = context.units.get(code)
    if unit is None:
        _add(row, "household_code", f"unknown org unit {code}: no village or community has it")
        return
    _, path, is_village = unit
    if not is_village:
        _add(row, "household_code", f"{code} is not a village or community")
    elif not any(path.startswith(p) for p in context.paths):
        _add(row, "household_code", f"{code} is outside the area you may import for")
