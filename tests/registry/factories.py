"""Small registry data for tests: the county tree the shared role fixtures grant in."""

from __future__ import annotations

from datetime import date

from registry.identity import citizen_id_make
from registry.models import OrgUnit, OrgUnitKind, Person
from registry.services.org_units import org_unit_create
from registry.services.persons import person_create

COUNTY = "330102000000"
TOWNSHIP_A = "330102101000"
TOWNSHIP_B = "330102102000"
VILLAGE_A1 = "330102101201"
VILLAGE_A2 = "330102101202"
VILLAGE_B1 = "330102102201"
ASSESSMENT = "12330102MB0A00001D"
PROVIDER_X = "12330102MB0A00002G"
PROVIDER_Y = "12330102MB0A00003K"
FINANCE_BUREAU = "11330102002493789C"

TREE = [
    (COUNTY, "清溪县", OrgUnitKind.COUNTY, ""),
    (TOWNSHIP_A, "城关镇", OrgUnitKind.TOWN, ""),
    (TOWNSHIP_B, "白沙镇", OrgUnitKind.TOWN, ""),
    (VILLAGE_A1, "上塘村", OrgUnitKind.VILLAGE, ""),
    (VILLAGE_A2, "下塘村", OrgUnitKind.VILLAGE, ""),
    (VILLAGE_B1, "石桥村", OrgUnitKind.VILLAGE, ""),
    (ASSESSMENT, "县残疾人康复评估中心", OrgUnitKind.ASSESSMENT, COUNTY),
    (PROVIDER_X, "县辅助器具适配中心", OrgUnitKind.SERVICE, COUNTY),
    (PROVIDER_Y, "仁和康复服务中心", OrgUnitKind.SERVICE, COUNTY),
    (FINANCE_BUREAU, "清溪县财政局", OrgUnitKind.FINANCE_BUREAU, COUNTY),
]


def county_tree() -> dict[str, OrgUnit]:
    """Create (once) and return the test county's units by code."""
    units = {u.code: u for u in OrgUnit.objects.filter(code__in=[t[0] for t in TREE])}
    for code, name, kind, parent in TREE:
        if code not in units:
            units[code] = org_unit_create(code=code, name=name, kind=kind, parent_code=parent)
    return units


def make_person(
    village: OrgUnit,
    *,
    name: str = "王小明",
    born: date = date(1980, 5, 17),
    sequence: int = 1,
    **fields,
) -> Person:
    citizen_id = citizen_id_make(area_code=village.code[:6], birth_date=born, sequence=sequence)
    return person_create(
        user=None, citizen_id=citizen_id, name=name, household_unit=village, **fields
    )
