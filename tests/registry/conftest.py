"""Registry fixtures: the test county, staff of every role, persons in two townships.

tests/fixtures/registry/password_protected.xlsx is a real encrypted workbook (made once with
msoffcrypto-tool, password "fuzhu"); nothing in the suite needs that tool.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.utils import translation

from registry.services.persons import assignment_create
from tests.registry.factories import (
    ASSESSMENT,
    COUNTY,
    PROVIDER_X,
    PROVIDER_Y,
    TOWNSHIP_A,
    TOWNSHIP_B,
    VILLAGE_A1,
    VILLAGE_B1,
    make_person,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "registry"


@pytest.fixture(autouse=True)
def _registry_settings(settings, tmp_path):
    settings.REGISTRY = {
        **getattr(settings, "REGISTRY", {}),
        "IMPORT_RUNNER": "inline",
        "IMPORT_DIR": str(tmp_path / "imports"),
        "IMPORT_CHUNK_ROWS": 7,  # small chunks, so the tests cross chunk boundaries
    }
    settings.ROOT_URLCONF = "tests.registry.urls"
    with translation.override("en"):
        yield


@pytest.fixture
def chinese():
    """Messages in Chinese, as a clerk reads them (the registry tests otherwise run in English)."""
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def units(org_units):
    return org_units


@pytest.fixture
def county_staff(make_user):
    return make_user("county_staff_li", ("county_staff", COUNTY))


@pytest.fixture
def township_a_staff(make_user):
    return make_user("township_a_zhang", ("township_staff", TOWNSHIP_A))


@pytest.fixture
def township_b_staff(make_user):
    return make_user("township_b_chen", ("township_staff", TOWNSHIP_B))


@pytest.fixture
def village_officer(make_user):
    return make_user("village_a1_liu", ("village_officer", VILLAGE_A1))


@pytest.fixture
def auditor(make_user):
    return make_user("auditor_zheng", ("auditor", ""))


@pytest.fixture
def finance_staff(make_user):
    return make_user("finance_zhao", ("finance", COUNTY))


@pytest.fixture
def provider_x(make_user):
    return make_user("provider_x_zhou", ("provider", PROVIDER_X))


@pytest.fixture
def provider_y(make_user):
    return make_user("provider_y_lin", ("provider", PROVIDER_Y))


@pytest.fixture
def assessor(make_user):
    return make_user("assessor_sun", ("assessor", ASSESSMENT))


@pytest.fixture
def person_a(units):
    """王小明 of 上塘村 (township A), on 低保, with a 精神 二级 certificate."""
    from registry.services.certificates import certificate_issue

    person = make_person(
        units[VILLAGE_A1],
        name="王小明",
        born=date(1980, 5, 17),
        sequence=31,
        phone="13800000001",
        low_income_status="dibao",
        low_income_since=date(2020, 1, 1),
    )
    certificate_issue(user=None, person=person, category=6, grade=2, issued_on=date(2021, 3, 1))
    return person


@pytest.fixture
def person_b(units):
    """李芳 of 石桥村 (township B), with a 肢体 四级 certificate."""
    from registry.services.certificates import certificate_issue

    person = make_person(units[VILLAGE_B1], name="李芳", born=date(1975, 2, 3), sequence=42)
    certificate_issue(user=None, person=person, category=4, grade=4, issued_on=date(2019, 6, 1))
    return person


@pytest.fixture
def assigned_to_x(person_b, units):
    """李芳's assistive-device case is with provider X."""
    return assignment_create(
        user=None, person=person_b, institution=units[PROVIDER_X], case_reference="FZ-1"
    )
