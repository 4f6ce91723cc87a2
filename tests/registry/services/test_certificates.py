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
        (8, 2, [], "请选择残疾类别：视力、听力、言语、肢体、智力、精神、多重。"),
        (4, 5, [], "请选择残疾等级：一级、二级、三级、四级。"),
        (
            7,
            1,
            [6],
            "多重残疾的残疾人证须写明包含的两个或以上残疾类别，可选：视力、听力、言语、肢体、"
            "智力、精神。",
        ),
        (4, 1, [6], "只有多重残疾的残疾人证才填写包含类别。"),
    ],
)
def test_unknown_categories_grades_and_bad_multiple_parts_are_refused(
    holder, county_staff, category, grade, included, message, chinese
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
    field = "included_categories" if included else ("category" if category == 8 else "grade")
    assert caught.value.fields == {field: [message]}
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


def test_a_person_holds_one_live_certificate(person_a, county_staff, chinese):
    live = Certificate.objects.get(person=person_a)
    with pytest.raises(Conflict) as refused:
        certificate_issue(
            user=county_staff, person=person_a, category=4, grade=1, issued_on=date(2024, 1, 1)
        )
    assert refused.value.message == (
        f"王小明已持有残疾人证{live.number}（有效），请改为补发、换领或注销。"
    )


def test_only_county_staff_issue_certificates(holder, township_a_staff, chinese):
    with pytest.raises(NotAllowed, match="^只有县残联可以发放和变更残疾人证。$"):
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


def test_cancel_and_renew_are_audited_transitions(person_a, county_staff, chinese):
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
    with pytest.raises(Conflict) as refused:
        certificate_cancel(user=county_staff, certificate=renewed, reason="again")
    assert refused.value.message == f"王小明的残疾人证{renewed.number}状态为“已注销”，不能注销。"
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
