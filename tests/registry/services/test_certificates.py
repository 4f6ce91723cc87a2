"""Certificates: the number agrees with holder and fields; the lifecycle is audited."""

from datetime import date

import pytest
import time_machine

from registry.models import Certificate, RegistryEvent
from registry.services.audit import registry_audit_verify
from registry.services.certificates import (
    certificate_cancel,
    certificate_issue,
    certificate_reissue,
    certificate_renew,
    certificates_refresh_statuses,
)
from tests.registry.factories import VILLAGE_A1, make_person
from workflows.exceptions import Conflict, InvalidInput, NotAllowed

pytestmark = pytest.mark.django_db


@pytest.fixture
def holder(units):
    return make_person(units[VILLAGE_A1], name="陈静", born=date(1990, 1, 1), sequence=12)


def test_the_number_is_the_id_category_and_grade_with_ten_years_validity(holder, county_staff):
    certificate = certificate_issue(
        user=county_staff, person=holder, category=6, grade=2, issued_on=date(2024, 2, 29)
    )
    assert certificate.number == holder.citizen_id + "62"
    assert certificate.valid_until == date(2034, 2, 28)
    assert certificate.status == "valid"
    event = RegistryEvent.objects.get(kind="certificate_issued")
    assert event.payload["number"] == certificate.number and event.actor == "county_staff_li"


def test_a_number_that_does_not_match_the_person_or_fields_is_refused(
    holder, person_a, county_staff
):
    wrong = person_a.citizen_id + "62"
    with pytest.raises(InvalidInput) as caught:
        certificate_issue(
            user=county_staff,
            person=holder,
            category=4,
            grade=2,
            issued_on=date(2024, 1, 1),
            number=wrong,
        )
    assert caught.value.fields["number"] == [
        f"The certificate number {wrong} belongs to the citizen ID {person_a.citizen_id}, not to "
        f"this person's ID {holder.citizen_id}.",
        "The certificate number says category 6 (精神) but the category is 4 (肢体).",
    ]
    assert not Certificate.objects.filter(person=holder).exists()


@pytest.mark.parametrize(
    "category, grade, included, message",
    [
        (8, 2, [], "unknown disability category 8 (1–7)"),
        (4, 5, [], "unknown disability grade 5 (1–4)"),
        (7, 1, [6], "a 多重 certificate names the two or more categories it includes (1–6)"),
        (4, 1, [6], "only a 多重 certificate includes other categories"),
    ],
)
def test_unknown_categories_grades_and_bad_multiple_parts_are_refused(
    holder, county_staff, category, grade, included, message
):
    with pytest.raises(InvalidInput) as caught:
        certificate_issue(
            user=county_staff,
            person=holder,
            category=category,
            grade=grade,
            issued_on=date(2024, 1, 1),
            included_categories=included,
        )
    assert caught.value.message == message
    assert not Certificate.objects.filter(person=holder).exists()


def test_a_multiple_certificate_records_its_parts(holder, county_staff):
    certificate = certificate_issue(
        user=county_staff,
        person=holder,
        category=7,
        grade=1,
        issued_on=date(2024, 1, 1),
        included_categories=[6, 4],
    )
    assert certificate.included == [4, 6] and certificate.covers_psychiatric
    assert certificate.included_names == "肢体、精神"


def test_a_person_holds_one_live_certificate(person_a, county_staff):
    with pytest.raises(Conflict, match="王小明 already holds certificate"):
        certificate_issue(
            user=county_staff, person=person_a, category=4, grade=1, issued_on=date(2024, 1, 1)
        )


def test_only_county_staff_issue_certificates(holder, township_a_staff):
    with pytest.raises(NotAllowed, match="only the county federation issues"):
        certificate_issue(
            user=township_a_staff, person=holder, category=4, grade=1, issued_on=date(2024, 1, 1)
        )


def test_a_lost_certificate_is_reissued_with_the_next_suffix(person_a, county_staff):
    first = person_a.certificates.get()
    second = certificate_reissue(user=county_staff, certificate=first, reason="遗失")
    third = certificate_reissue(user=county_staff, certificate=second, reason="损坏")
    assert (second.number, third.number) == (first.number + "B1", first.number + "B2")
    assert third.valid_until == first.valid_until and third.replaces == second
    first.refresh_from_db()
    assert first.status == "reissued" and first.status_reason == "遗失"


def test_a_reassessment_gives_a_new_number_and_validity(person_a, county_staff):
    first = person_a.certificates.get()
    new = certificate_reissue(
        user=county_staff,
        certificate=first,
        reason="重新评定",
        category=4,
        grade=3,
        issued_on=date(2025, 3, 1),
    )
    assert new.number == person_a.citizen_id + "43" and new.valid_until == date(2035, 3, 1)
    assert not new.covers_psychiatric


def test_cancel_and_renew_are_audited_transitions(person_a, county_staff):
    certificate = person_a.certificates.get()
    with time_machine.travel(date(2031, 1, 15)):
        assert certificates_refresh_statuses() == {"expiring": 1, "expired": 0}
        assert certificates_refresh_statuses() == {"expiring": 0, "expired": 0}
    with time_machine.travel(date(2031, 3, 2)):
        assert certificates_refresh_statuses() == {"expiring": 0, "expired": 1}
        renewed = certificate_renew(
            user=county_staff, certificate=certificate, issued_on=date(2031, 3, 2)
        )
    assert renewed.status == "valid" and renewed.valid_until == date(2041, 3, 2)
    certificate_cancel(user=county_staff, certificate=renewed, reason="死亡注销")
    with pytest.raises(Conflict, match="is 已注销: it cannot be cancelled"):
        certificate_cancel(user=county_staff, certificate=renewed, reason="again")
    kinds = list(
        RegistryEvent.objects.filter(subject=f"certificate:{certificate.pk}")
        .order_by("sequence")
        .values_list("kind", "payload__from", "payload__to")
    )
    assert kinds == [
        ("certificate_issued", None, None),
        ("certificate_expiring", "valid", "expiring"),
        ("certificate_expired", "expiring", "expired"),
        ("certificate_renewed", "expired", "valid"),
        ("certificate_cancelled", "valid", "cancelled"),
    ]


def test_the_registry_chain_verifies_and_shows_tampering(person_a, county_staff):
    certificate_cancel(
        user=county_staff, certificate=person_a.certificates.get(), reason="评定不再符合"
    )
    checked, breaks = registry_audit_verify()
    assert checked == RegistryEvent.objects.count() and breaks == []
    event = RegistryEvent.objects.get(kind="certificate_cancelled")
    RegistryEvent.objects.filter(pk=event.pk).update(payload={**event.payload, "reason": "x"})
    _, breaks = registry_audit_verify()
    assert [(b.sequence, b.message) for b in breaks] == [
        (event.sequence, "its content was altered")
    ]
