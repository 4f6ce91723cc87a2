"""Assistive-device fitting end to end through the services, with time moved: an adult whose
wheelchair costs more than its ceiling, and a child whose yearly cap runs out, with a refit."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from processes.devices.models import (
    ApplicationState,
    FittingKind,
    PurchaseOrder,
    SettlementLine,
)
from processes.devices.services.settlement import settlement_run
from registry.models import InstitutionAssignment
from workflows.models import AuditEvent, HumanTask, InstanceState, ProcessInstance
from workflows.services.audit import audit_verify
from workflows.services.instances import instance_start
from workflows.services.replay import instance_replay

from .conftest import (
    ASSESSMENT,
    MARCH_3,
    PROVIDER_X,
    PROVIDER_Y,
    TZ,
    complete,
    fire_timers,
    fit_and_accept,
    register,
    run_jobs,
    through_approval,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("every_case_replays", "a_new_process_each_step"),
]


def test_an_adult_case_runs_from_application_to_the_institutions_settlement(
    clock, catalogue, staff, adult, django_capture_on_commit_callbacks
):
    application = register(staff["village"], adult)
    assert application.number == f"FZ2025-{application.pk:06d}"
    assert application.state == ApplicationState.INITIAL_CHECK
    instance = application.instance
    assert instance.scope == adult.household_unit.code
    assert instance.variables["applicant_id"].startswith("3301")
    assert "*" in instance.variables["applicant_id"]  # masked in the case data

    with django_capture_on_commit_callbacks(execute=True):
        through_approval(application, staff)
    # The registry knows the person's case is with the assessment institution.
    assert InstitutionAssignment.objects.filter(
        person=adult, institution__code=ASSESSMENT, case_reference=application.number
    ).exists()
    # 1,580 yuan against a ceiling of 1,200: the ceiling is paid, the person pays 380.
    assert application.state == ApplicationState.PROCUREMENT
    assert application.price_total == Decimal("1580.00")
    assert application.subsidy_granted == Decimal("1200.00")
    assert application.self_pay == Decimal("380.00")
    assert application.cap_excess == Decimal("0.00")
    line = application.plan_items.get()
    assert (line.subsidy, line.self_pay, line.rule) == (
        Decimal("1200.00"),
        Decimal("380.00"),
        "above_ceiling",
    )

    fit_and_accept(application, staff)
    order = PurchaseOrder.objects.get(application=application)
    assert (order.institution.code, order.subsidy, order.self_pay) == (
        PROVIDER_X,
        Decimal("1200.00"),
        Decimal("380.00"),
    )
    assert order.agreements == ["FZXY-2024-001"]
    assert application.state == ApplicationState.FOLLOW_UP
    assert application.fitted_on == MARCH_3.date()

    # On 1 April the monthly settlement (a timer start) settles March's acceptances; the case
    # goes on waiting for its follow-up visit.
    assert fire_timers(clock, datetime(2025, 4, 1, 2, 0, 1, tzinfo=TZ)) == 1
    assert run_jobs() == 1
    statement = SettlementLine.objects.get(application=application).statement
    assert (statement.institution.code, statement.period.isoformat()) == (PROVIDER_X, "2025-03-01")
    assert (statement.line_count, statement.subsidy_total) == (1, Decimal("1200.00"))
    assert statement.file.name.endswith(".xlsx") and len(statement.sha256) == 64
    instance.refresh_from_db()
    assert instance.state == InstanceState.WAITING

    # 30 days after the fitting, the institution's follow-up visit; all well: closed, and the
    # case ends (settled and visited).
    assert fire_timers(clock, MARCH_3 + timedelta(days=30, hours=1)) == 1
    complete(
        application,
        "follow_up_visit",
        staff["provider"],
        visited_on="2025-04-02",
        outcome="close",
        findings="使用良好，能独立推行。",
    )
    assert application.state == ApplicationState.CLOSED
    instance.refresh_from_db()
    assert instance.state == InstanceState.COMPLETED

    changes = list(
        AuditEvent.objects.filter(stream=f"device_application:{application.pk}")
        .order_by("sequence")
        .values_list("element_id", flat=True)
    )
    assert changes == [
        "registered",
        "initial_check:approve",
        "second_check:approve",
        "assessment_assigned",
        "assessed",
        "approved",
        "ordered",
        "fitted:first",
        "acceptance:accepted",
        "settled",
        "follow_up:close",
    ]
    assert audit_verify()[1] == []
    assert instance_replay(instance=instance).matches


def test_a_child_case_with_a_refit_loop_and_the_yearly_cap(clock, catalogue, staff, child):
    # Earlier this year the child was granted 60,000 yuan (another application, approved).
    earlier = register(staff["village"], child, requested_devices=["FZ-JZ-03"])
    through_approval(
        earlier, staff, plan=[{"device_code": "FZ-JZ-03", "quantity": 5, "unit_price": 12000}]
    )
    assert earlier.is_child and earlier.subsidy_granted == Decimal("60000.00")

    application = register(staff["village"], child, requested_devices=["FZ-XX-02"])
    # 8,500 for a hearing aid with an 8,000 ceiling: 8,000 by the ceiling, of which only the
    # 2,500 left of the 62,500 cap is granted; 5,500 above the cap is shown and not subsidised.
    through_approval(
        application, staff, plan=[{"device_code": "FZ-XX-02", "quantity": 1, "unit_price": 8500}]
    )
    assert application.subsidy_by_ceiling == Decimal("8000.00")
    assert application.subsidy_granted == Decimal("2500.00")
    assert application.cap_excess == Decimal("5500.00")
    assert application.self_pay == Decimal("6000.00")  # 500 above the ceiling + 5,500
    application.instance.refresh_from_db()
    shown = application.instance.variables
    assert (shown["granted_fen"], shown["cap_excess_fen"]) == (250000, 550000)
    assert shown["cap_excess"] == "5,500.00"

    fit_and_accept(application, staff)
    # 1 April: March's fitting is settled. 2 April: the follow-up finds the aid whistling:
    # refit until accepted, visited again 30 days later, closed.
    fire_timers(clock, datetime(2025, 4, 1, 2, 0, 1, tzinfo=TZ))
    assert run_jobs() == 1
    line = SettlementLine.objects.get(application=application)
    assert line.subsidy == Decimal("2500.00")
    assert line.statement.line_count == 1
    fire_timers(clock, MARCH_3 + timedelta(days=31))
    complete(
        application,
        "follow_up_visit",
        staff["provider"],
        visited_on="2025-04-03",
        outcome="refit",
        findings="啸叫，需重新取耳模。",
    )
    assert application.state == ApplicationState.FITTING
    clock.move_to(datetime(2025, 4, 8, 15, 0, tzinfo=TZ))
    complete(
        application,
        "refit",
        staff["provider"],
        delivered_on="2025-04-08",
        fitting_notes="重新取耳模，调整增益。",
        training_notes="佩戴与清洁训练。",
    )
    complete(
        application,
        "confirm_refit",
        staff["village"],
        acceptance="refused",
        confirmed_by="guardian",
        acceptance_note="仍有轻微啸叫。",
    )
    assert application.state == ApplicationState.FITTING
    clock.move_to(datetime(2025, 4, 10, 15, 0, tzinfo=TZ))
    complete(
        application,
        "refit",
        staff["provider"],
        delivered_on="2025-04-10",
        fitting_notes="更换耳塞。",
        training_notes="复训。",
    )
    complete(
        application,
        "confirm_refit",
        staff["village"],
        acceptance="accepted",
        confirmed_by="guardian",
    )
    assert [f.kind for f in application.fittings.all()] == [
        FittingKind.FIRST,
        FittingKind.REFIT,
        FittingKind.REFIT,
    ]
    assert [f.accepted for f in application.fittings.all()] == [True, False, True]
    fire_timers(clock, datetime(2025, 5, 11, 10, 0, tzinfo=TZ))
    complete(
        application,
        "follow_up_visit",
        staff["provider"],
        visited_on="2025-05-11",
        outcome="close",
        findings="佩戴良好。",
    )
    assert application.state == ApplicationState.CLOSED

    # A later settlement run settles nothing twice.
    assert settlement_run(period=datetime(2025, 4, 1).date()).lines == 0
    assert SettlementLine.objects.filter(application=application).count() == 1
    application.instance.refresh_from_db()
    assert application.instance.state == InstanceState.COMPLETED
    assert instance_replay(instance=application.instance).matches


def test_the_monthly_settlement_can_be_started_by_county_staff(clock, catalogue, staff, adult):
    application = register(staff["village"], adult)
    through_approval(application, staff)
    fit_and_accept(application, staff, provider=PROVIDER_Y)
    clock.move_to(datetime(2025, 4, 2, 9, 0, tzinfo=TZ))
    instance = instance_start(process_key="assistive_device_settlement", user=staff["county"])
    assert run_jobs() >= 1
    instance.refresh_from_db()
    assert instance.state == InstanceState.COMPLETED
    assert instance.variables["lines"] == 1
    assert instance.variables["subsidy_total"] == "1,200.00"
    assert SettlementLine.objects.get(application=application).statement.institution.code == (
        PROVIDER_Y
    )
    assert not HumanTask.objects.filter(instance=instance).exists()
    assert ProcessInstance.objects.get(pk=application.instance_id).state == InstanceState.WAITING
