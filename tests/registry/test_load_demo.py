"""The demo county of the README's run command: places, persons, certificates, staff."""

import time
from collections import Counter
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from registry.demo import DEMO_PASSWORD, DEMO_STAFF
from registry.identity import certificate_number_parse, citizen_id_parse
from registry.models import (
    LIVE_STATUSES,
    CardAccount,
    Certificate,
    InstitutionAssignment,
    OrgUnit,
    Person,
)
from workflows.scopes import resolver

pytestmark = pytest.mark.django_db

README_LOGINS = [
    "owner", "county", "township_a", "township_b", "village_a1", "finance", "assessor",
    "provider", "petition", "auditor",
]  # fmt: skip


def test_load_demo_builds_the_county_once_fast_with_every_role_and_case(capsys):
    """One load (about 4 s on SQLite) checked from every side; a second run changes nothing."""
    began = time.perf_counter()
    call_command("load_demo")
    assert time.perf_counter() - began < 20
    persons = Person.objects.count()
    call_command("load_demo")
    assert Person.objects.count() == persons
    out = capsys.readouterr().out
    assert "Demo logins (password for all: fuzhu-demo-2025)" in out
    for username in README_LOGINS:
        assert f"  {username} " in out
    every_role_has_a_login_with_the_demo_password()
    one_county_with_townships_villages_and_institutions()
    persons_have_valid_ids_of_the_county_and_agreeing_certificates()
    every_case_the_medication_subsidy_comparison_looks_for_occurs()


def every_role_has_a_login_with_the_demo_password():
    users = get_user_model().objects.filter(username__in=[s[0] for s in DEMO_STAFF])
    assert set(README_LOGINS) <= set(users.values_list("username", flat=True))
    assert all(u.check_password(DEMO_PASSWORD) for u in users)
    roles = {g.role for u in users for g in resolver().grants(u)}
    assert roles == set(resolver().roles())
    township_a = users.get(username="township_a")
    assert [g.scope for g in resolver().grants(township_a)] == ["330102101000"]


def one_county_with_townships_villages_and_institutions():
    kinds = Counter(OrgUnit.objects.values_list("kind", flat=True))
    assert kinds["county"] == 1
    assert kinds["street"] + kinds["town"] + kinds["township"] == 15
    assert kinds["village"] + kinds["community"] == 200
    assert (kinds["finance_bureau"], kinds["assessment"], kinds["service"], kinds["hospital"]) == (
        1, 2, 3, 1,
    )  # fmt: skip
    for unit in OrgUnit.objects.select_related("parent").exclude(parent=None):
        assert unit.path.startswith(unit.parent.path)


def persons_have_valid_ids_of_the_county_and_agreeing_certificates():
    assert Person.objects.count() == 6000
    for citizen_id, birth, sex in Person.objects.values_list("citizen_id", "birth_date", "sex"):
        parsed = citizen_id_parse(citizen_id)
        assert (parsed.area_code, parsed.birth_date, parsed.sex) == ("330102", birth, sex)
    for number, person_id, category, grade in Certificate.objects.values_list(
        "number", "person__citizen_id", "category", "grade"
    ):
        parsed = certificate_number_parse(number)
        assert (parsed.citizen_id, parsed.category, parsed.grade) == (person_id, category, grade)
    live = Certificate.objects.filter(status__in=LIVE_STATUSES)
    assert set(live.values_list("category", flat=True)) == set(range(1, 8))
    assert set(live.values_list("grade", flat=True)) == {1, 2, 3, 4}


def every_case_the_medication_subsidy_comparison_looks_for_occurs():
    psychiatric = Person.objects.filter(certificates__category=6).distinct()
    today = date.today()
    assert psychiatric.filter(low_income_status="dibao").count() > 50
    assert psychiatric.filter(life_status="deceased").exists()
    assert psychiatric.filter(moved_out_on__isnull=False).exists()
    assert psychiatric.filter(low_income_until__lt=today).exists()
    assert psychiatric.filter(low_income_status="tekun").exists()
    assert psychiatric.filter(publicly_funded=True).exists()
    statuses = set(Certificate.objects.filter(category=6).values_list("status", flat=True))
    assert statuses == {"valid", "expiring", "expired", "cancelled", "reissued"}
    no_longer = Certificate.objects.filter(replaces__category=6).exclude(category=6)
    assert no_longer.exists()
    assert CardAccount.objects.filter(status="invalid", person__in=psychiatric).exists()
    assert Certificate.objects.filter(number__endswith="B1").exists()
    assert InstitutionAssignment.objects.filter(institution__kind="service").exists()
