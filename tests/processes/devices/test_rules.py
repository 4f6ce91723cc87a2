"""Every refusal of the procedure says exactly why and writes nothing: no certificate, a usage
period not yet passed, a child's cap used up, an institution without a covering agreement, a
second settlement of the same fitting."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from processes.devices.models import (
    ApplicationState,
    DeviceApplication,
    PurchaseOrder,
    SettlementLine,
)
from processes.devices.services.common import locked_application
from processes.devices.services.settlement import settlement_run
from registry.models import Certificate
from registry.services.certificates import certificate_cancel
from tests.registry.factories import VILLAGE_A1, make_person
from workflows.exceptions import InvalidInput, NotFound
from workflows.models import ProcessInstance

from .conftest import (
    PROVIDER_EXPIRED,
    PROVIDER_X,
    PROVIDER_Y,
    TZ,
    complete,
    fire_timers,
    fit_and_accept,
    open_task,
    register,
    through_approval,
)

pytestmark = pytest.mark.django_db


def test_an_applicant_without_a_valid_certificate_is_refused_and_nothing_is_written(
    catalogue, staff, places, adult
):
    uncertified = make_person(places[VILLAGE_A1], name="赵无证", sequence=31)
    with pytest.raises(InvalidInput) as refused:
        register(staff["village"], uncertified)
    assert refused.value.fields == {"citizen_id": ["赵无证没有有效的残疾人证，请先办理或换领。"]}

    certificate_cancel(user=None, certificate=Certificate.objects.get(person=adult), reason="迁出")
    with pytest.raises(InvalidInput) as refused:
        register(staff["village"], adult)
    assert refused.value.fields == {"citizen_id": ["王建国没有有效的残疾人证，请先办理或换领。"]}
    assert not DeviceApplication.objects.exists()
    assert not ProcessInstance.objects.filter(definition__key="assistive_device_fitting").exists()


def test_a_person_not_in_the_registry_and_a_bad_citizen_id_are_refused(catalogue, staff):
    with pytest.raises(InvalidInput) as refused:
        register(staff["village"], type("P", (), {"citizen_id": "11010519491231002X"}))
    assert list(refused.value.fields) == ["citizen_id"]
    assert [refused.value.message] == refused.value.fields["citizen_id"]  # no raw field name
    with pytest.raises(InvalidInput) as refused:
        register(staff["village"], type("P", (), {"citizen_id": "110105194912310021"}))
    assert refused.value.fields["citizen_id"] == [
        "身份证号 110105194912310021 的校验位不正确：末位应为 X。"
    ]


def test_a_device_whose_usage_period_has_not_passed_is_refused(clock, catalogue, staff, adult):
    first = register(staff["village"], adult)
    through_approval(first, staff)
    fit_and_accept(first, staff)  # a wheelchair fitted on 3 March 2025; 60 months
    # A second application for the same device, now and in 2029: refused; a walker is fine.
    with pytest.raises(InvalidInput) as refused:
        register(staff["village"], adult)
    assert refused.value.fields["requested_devices"] == [
        f"手动轮椅车已于 2025-03-03 适配（{first.number}），最低使用年限 60 个月，"
        "2030-03-03 前不能再次申请。"
    ]
    clock.move_to(datetime(2030, 3, 2, 10, 0, tzinfo=TZ))
    with pytest.raises(InvalidInput):
        register(staff["village"], adult)
    clock.move_to(datetime(2030, 3, 3, 10, 0, tzinfo=TZ))
    assert register(staff["village"], adult).state == ApplicationState.INITIAL_CHECK


def test_the_usage_period_is_checked_again_on_the_assessors_plan(clock, catalogue, staff, adult):
    first = register(staff["village"], adult)
    through_approval(first, staff)
    fit_and_accept(first, staff)
    second = register(staff["village"], adult, requested_devices=[], needs_assessment=True)
    complete(second, "initial_check", staff["village"], decision="approve", opinion="属实")
    complete(second, "second_check", staff["township"], decision="approve", opinion="同意")
    complete(
        second,
        "assign_assessment",
        staff["county"],
        assessment_institution=first.assessment_institution.code,
    )
    with pytest.raises(InvalidInput) as refused:
        complete(
            second,
            "record_assessment",
            staff["assessor"],
            assessment="需轮椅",
            plan=[{"device_code": "FZ-YD-01", "quantity": 1, "unit_price": 900}],
        )
    assert list(refused.value.fields) == ["plan"]
    second.refresh_from_db()
    assert second.state == ApplicationState.ASSESSMENT and not second.plan_items.exists()
    assert open_task(second, "record_assessment")


def test_an_application_for_a_device_already_under_way_is_refused(catalogue, staff, adult):
    first = register(staff["village"], adult)
    with pytest.raises(InvalidInput) as refused:
        register(staff["township"], adult)
    assert first.number in refused.value.fields["requested_devices"][0]


def test_neither_devices_nor_an_assessment_asked_for_is_refused(catalogue, staff, adult):
    with pytest.raises(InvalidInput) as refused:
        register(staff["village"], adult, requested_devices=[])
    assert list(refused.value.fields) == ["requested_devices"]
    with pytest.raises(InvalidInput) as refused:
        register(staff["village"], adult, requested_devices=["FZ-NOPE"])
    assert "FZ-NOPE" in refused.value.fields["requested_devices"][0]


def test_a_childs_applications_above_the_yearly_cap_are_shown_and_not_subsidised(
    clock, catalogue, staff, child
):
    big = [{"device_code": "FZ-JZ-03", "quantity": 5, "unit_price": 12500}]
    first = register(staff["village"], child, requested_devices=["FZ-JZ-03"])
    through_approval(first, staff, plan=big)
    # 62,500 by the ceilings (5 × 12,000 = 60,000, 2,500 above the ceiling paid by the family).
    assert (first.subsidy_granted, first.cap_excess) == (Decimal("60000.00"), Decimal("0.00"))
    second = register(staff["village"], child, requested_devices=["FZ-JJ-02"])
    through_approval(
        second, staff, plan=[{"device_code": "FZ-JJ-02", "quantity": 2, "unit_price": 2400}]
    )
    # 4,800 by the ceilings; only 2,500 of the cap is left.
    assert second.subsidy_by_ceiling == Decimal("4800.00")
    assert second.subsidy_granted == Decimal("2500.00")
    assert second.cap_excess == Decimal("2300.00")
    third = register(staff["village"], child, requested_devices=["FZ-ZL-02"])
    through_approval(
        third, staff, plan=[{"device_code": "FZ-ZL-02", "quantity": 1, "unit_price": 180}]
    )
    assert (third.subsidy_granted, third.cap_excess, third.self_pay) == (
        Decimal("0.00"),
        Decimal("180.00"),
        Decimal("180.00"),
    )
    third.instance.refresh_from_db()
    assert third.instance.variables["cap_excess"] == "180.00"


def test_an_adults_applications_have_no_yearly_cap(clock, catalogue, staff, adult):
    application = register(staff["village"], adult, requested_devices=["FZ-JZ-03"])
    plan = [{"device_code": "FZ-JZ-03", "quantity": 7, "unit_price": 11000}]
    through_approval(application, staff, plan=plan)
    assert (application.subsidy_granted, application.cap_excess) == (
        Decimal("77000.00"),
        Decimal("0.00"),
    )


@pytest.mark.parametrize(
    ("provider", "why"),
    [
        (PROVIDER_EXPIRED, "expired at the end of last year"),
        (PROVIDER_Y, "covers orthoses and mobility, not communication"),
    ],
)
def test_an_institution_without_a_covering_agreement_cannot_be_chosen(
    clock, catalogue, staff, places, child, provider, why
):
    application = register(staff["village"], child, requested_devices=["FZ-XX-02"])
    plan = [{"device_code": "FZ-XX-02", "quantity": 1, "unit_price": 7800}]
    through_approval(application, staff, plan=plan)
    with pytest.raises(InvalidInput) as refused:
        complete(application, "choose_provider", staff["county"], service_institution=provider)
    [message] = refused.value.fields["service_institution"]
    institution = places[provider].name
    assert message == (
        f"{institution}在 2025-03-03 没有覆盖方案所列类别（沟通和信息辅助器具）的有效服务协议。"
    ), why
    application.refresh_from_db()
    assert application.state == ApplicationState.PROCUREMENT
    assert application.service_institution is None
    assert not PurchaseOrder.objects.exists()
    assert open_task(application, "choose_provider").draft_data == {}
    complete(application, "choose_provider", staff["county"], service_institution=PROVIDER_X)
    assert application.state == ApplicationState.FITTING


def test_a_fitting_is_settled_once_whatever_happens(clock, catalogue, staff, adult):
    application = register(staff["village"], adult)
    through_approval(application, staff)
    fit_and_accept(application, staff)
    fire_timers(clock, datetime(2025, 4, 2, 8, 0, tzinfo=TZ))
    first = settlement_run(period=date(2025, 3, 1))
    second = settlement_run(period=date(2025, 3, 1))
    assert (first.lines, second.lines) == (1, 0)
    line = SettlementLine.objects.get(application=application)
    with pytest.raises(IntegrityError), transaction.atomic():
        SettlementLine.objects.create(
            statement=line.statement, application=application, subsidy=Decimal("1200.00")
        )
    assert SettlementLine.objects.count() == 1
    # A month that has not ended cannot be settled.
    with pytest.raises(InvalidInput, match="2025-04"):
        settlement_run(period=date(2025, 4, 1))


def test_a_settlement_run_by_someone_not_county_staff_is_refused(clock, catalogue, staff):
    from workflows.exceptions import NotAllowed

    with pytest.raises(NotAllowed):
        settlement_run(period=date(2025, 2, 1), user=staff["provider"])
    assert settlement_run(period=date(2025, 2, 1), user=staff["county"]).lines == 0


def test_a_missing_application_is_refused_in_chinese(db):
    with transaction.atomic(), pytest.raises(NotFound, match="^该辅助器具适配申请不存在。$"):
        locked_application(999999)
