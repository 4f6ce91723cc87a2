"""Checking a chunk of rows against the registry: org units, the uploader's area, conflicts."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext

from .. import conf
from ..models import LIVE_STATUSES, Certificate, OrgUnit, OrgUnitKind, Person
from ..services.access import Reach
from .columns import BY_KEY

VILLAGE_KINDS = (OrgUnitKind.VILLAGE, OrgUnitKind.COMMUNITY)


@dataclass
class RowContext:
    units: dict[str, tuple[int, str, bool, str]]  # code → (id, path, village/community?, name)
    paths: list[str]  # where the uploader may import ("" = everywhere)

    @classmethod
    def build(cls, reach: Reach) -> RowContext:
        units = {
            code: (pk, path, kind in VILLAGE_KINDS, name)
            for pk, code, path, kind, name in OrgUnit.objects.filter(is_active=True).values_list(
                "pk", "code", "path", "kind", "name"
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
                gettext(
                    "Conflicts with the registry: ID %(id)s is registered as %(registered)s, "
                    "the row says %(name)s; check the ID, or correct the name in the registry "
                    "first."
                )
                % {"id": row.citizen_id, "registered": person.name, "name": name},
            )
        certificate = live.get(person.pk)
        issued = row.data.get("issued_on")
        number = row.data.get("certificate_number")
        newer = certificate and issued and certificate.issued_on.isoformat() > issued
        if newer and number and number != certificate.number:
            _add(
                row,
                "certificate_number",
                gettext(
                    "Conflicts with the registry: %(name)s holds certificate %(number)s issued "
                    "%(day)s, newer than this row's."
                )
                % {
                    "name": person.name,
                    "number": certificate.number,
                    "day": certificate.issued_on.isoformat(),
                },
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
        _add(
            row,
            "household_code",
            gettext("No village or community has the code %(code)s.") % {"code": code},
        )
        return
    _, path, is_village, name = unit
    if not is_village:
        _add(
            row,
            "household_code",
            gettext("%(unit)s (%(code)s) is not a village or community.")
            % {"unit": name, "code": code},
        )
    elif not any(path.startswith(p) for p in context.paths):
        _add(
            row,
            "household_code",
            gettext("%(unit)s (%(code)s) is outside the area you may import for.")
            % {"unit": name, "code": code},
        )
