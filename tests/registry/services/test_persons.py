"""Registering and changing persons; full views of IDs and card numbers are recorded."""

from datetime import date

import pytest

from registry.identity import citizen_id_make
from registry.models import CardAccount, Person, RegistryEvent
from registry.services.persons import card_account_set, person_create, person_reveal, person_update
from tests.registry.factories import COUNTY, TOWNSHIP_A, VILLAGE_A1, VILLAGE_B1
from workflows.exceptions import InvalidInput, NotAllowed, NotFound

pytestmark = pytest.mark.django_db


def test_birth_date_and_sex_come_from_the_id(units, township_a_staff):
    citizen_id = citizen_id_make(area_code="330102", birth_date=date(1962, 3, 9), sequence=44)
    person = person_create(
        user=township_a_staff, citizen_id=citizen_id, name="赵一", household_unit=units[VILLAGE_A1]
    )
    assert (person.birth_date, person.sex) == (date(1962, 3, 9), "female")
    assert RegistryEvent.objects.filter(kind="person_created").count() == 1


@pytest.mark.parametrize(
    "citizen_id, message",
    [
        (
            "110105194912310021",
            "The check digit of the citizen ID 110105194912310021 is wrong: it should end in X.",
        ),
        (
            "110105491231002",
            "The citizen ID 110105491231002 is a 15-digit ID of the old kind, which is not "
            "accepted: enter the 18-digit citizen ID from the person's current ID card.",
        ),
    ],
)
def test_a_bad_id_registers_nobody(units, county_staff, citizen_id, message):
    with pytest.raises(InvalidInput) as caught:
        person_create(
            user=county_staff, citizen_id=citizen_id, name="赵一", household_unit=units[VILLAGE_A1]
        )
    assert caught.value.message == message
    assert caught.value.fields == {"citizen_id": [message]}
    assert not Person.objects.exists()
    assert not RegistryEvent.objects.filter(kind="person_created").exists()


def test_a_household_is_a_village_or_community(units, county_staff, chinese):
    with pytest.raises(InvalidInput) as caught:
        person_create(
            user=county_staff,
            citizen_id="11010519491231002X",
            name="赵一",
            household_unit=units[TOWNSHIP_A],
        )
    message = "户籍地应为村或社区，城关镇不是村或社区。"
    assert caught.value.message == message
    assert caught.value.fields == {"household_unit": [message]}
    assert not Person.objects.exists()


def test_township_staff_register_only_in_their_township(units, township_a_staff, chinese):
    village = units[VILLAGE_B1].name
    with pytest.raises(NotAllowed, match=f"^您不能在{village}登记人员。$"):
        person_create(
            user=township_a_staff,
            citizen_id="11010519491231002X",
            name="赵一",
            household_unit=units[VILLAGE_B1],
        )
    assert not Person.objects.exists()


def test_a_change_is_recorded_with_before_and_after(person_a, village_officer):
    person_update(user=village_officer, person=person_a, phone="13911112222")
    event = RegistryEvent.objects.filter(kind="person_changed").get()
    assert event.payload == {"changes": {"phone": ["13800000001", "13911112222"]}}
    assert event.actor == "village_a1_liu"


def test_a_death_date_makes_the_person_deceased(person_a, county_staff):
    person = person_update(user=county_staff, person=person_a, deceased_on=date(2025, 1, 2))
    assert person.life_status == "deceased"


def test_the_id_cannot_be_changed(person_a, county_staff, chinese):
    with pytest.raises(InvalidInput, match="^以下信息不能修改：公民身份号码。$"):
        person_update(user=county_staff, person=person_a, citizen_id="11010519491231002X")


def test_changes_outside_the_area_are_not_found_and_the_auditor_may_not_change(
    person_a, township_b_staff, auditor, chinese
):
    with pytest.raises(NotFound, match="^查无此人。$"):
        person_update(user=township_b_staff, person=person_a, phone="1")
    with pytest.raises(NotAllowed, match="^您可以查看王小明的信息，但不能修改。$"):
        person_update(user=auditor, person=person_a, phone="1")
    assert Person.objects.get(pk=person_a.pk).phone == "13800000001"


def test_a_full_view_is_recorded_and_shows_only_what_the_role_needs(
    person_a, township_a_staff, finance_staff, county_staff
):
    card_account_set(
        user=county_staff, person=person_a, kind="bank_card", number="6228 4800 1234 5678"
    )
    assert CardAccount.objects.get().masked_number == "**** 5678"
    certificate = person_a.certificates.get()
    township = person_reveal(user=township_a_staff, person=person_a)
    assert township == {
        "citizen_id": person_a.citizen_id,
        "card_number": "**** 5678",
        "phone": "13800000001",
        "certificates": [{"id": certificate.pk, "number": certificate.number}],
    }
    finance = person_reveal(user=finance_staff, person=person_a)
    assert finance == {
        "citizen_id": person_a.masked_citizen_id,
        "card_number": "6228480012345678",
        "phone": "138****0001",
        "certificates": [{"id": certificate.pk, "number": certificate.masked_number}],
    }
    events = RegistryEvent.objects.filter(kind="person_revealed").order_by("sequence")
    assert [(e.actor, e.payload) for e in events] == [
        ("township_a_zhang", {"citizen_id": True, "card_number": False}),
        ("finance_zhao", {"citizen_id": False, "card_number": True}),
    ]


def test_a_card_number_is_digits(person_a, county_staff):
    with pytest.raises(InvalidInput, match="card account number is 8 to 32 digits; 62-AB is not"):
        card_account_set(user=county_staff, person=person_a, kind="bank_card", number="62-ab")
    assert not CardAccount.objects.exists()


def test_petition_staff_read_but_do_not_see_full_numbers(person_a, make_user, chinese):
    petition = make_user("petition_wu", ("petition_office", COUNTY))
    with pytest.raises(NotAllowed, match="^您的角色只能查看王小明的号码的脱敏形式。$"):
        person_reveal(user=petition, person=person_a)
    assert not RegistryEvent.objects.filter(kind="person_revealed").exists()
