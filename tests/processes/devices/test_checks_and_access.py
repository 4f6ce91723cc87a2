"""The village's and township's checks (return for more material, reject), and who may see and
act on a case: an institution only on the cases assigned to it."""

from __future__ import annotations

import pytest

from processes.devices.models import ApplicationState
from processes.devices.selectors import application_for_user, applications_for_user
from tests.conftest import TOWNSHIP_B
from workflows.exceptions import InvalidInput, NotAllowed
from workflows.models import AuditEvent, InstanceState
from workflows.selectors.inbox import inbox_for_user
from workflows.services.tasks import task_complete

from .conftest import (
    ASSESSMENT,
    ASSESSMENT_B,
    PLAN_WHEELCHAIR,
    complete,
    fit_and_accept,
    open_task,
    register,
    through_approval,
    through_checks,
)

pytestmark = pytest.mark.django_db


def test_a_return_for_more_material_keeps_the_data_and_repeats_the_same_check(
    catalogue, staff, adult
):
    application = register(staff["village"], adult, contact_phone="")
    complete(application, "initial_check", staff["village"], decision="approve", opinion="属实")
    complete(
        application,
        "second_check",
        staff["township"],
        decision="return",
        opinion="缺材料",
        missing_material="请补充近期医院诊断证明。",
    )
    assert application.state == ApplicationState.RETURNED
    assert application.missing_material == "请补充近期医院诊断证明。"
    task = open_task(application, "supplement_material")
    assert task.candidate_roles == ["village_officer", "township_staff"]
    complete(
        application,
        "supplement_material",
        staff["village"],
        supplement_note="已上传诊断证明。",
        contact_phone="13905710002",
    )
    # Back to the township's check, not the village's; what was registered is still there.
    assert application.state == ApplicationState.SECOND_CHECK
    assert open_task(application, "second_check")
    assert (application.requested_devices, application.contact_phone) == (
        ["FZ-YD-01"],
        "13905710002",
    )
    assert application.return_count == 1
    complete(application, "second_check", staff["township"], decision="approve", opinion="齐全")
    assert application.state == ApplicationState.ASSESSMENT

    other = register(staff["village"], adult, requested_devices=["FZ-ZL-01"])
    complete(
        other,
        "initial_check",
        staff["village"],
        decision="return",
        opinion="缺材料",
        missing_material="户口簿",
    )
    complete(other, "supplement_material", staff["township"], supplement_note="已补户口簿")
    assert other.state == ApplicationState.INITIAL_CHECK
    assert open_task(other, "initial_check")


def test_a_check_that_returns_or_rejects_without_saying_why_is_refused(catalogue, staff, adult):
    application = register(staff["village"], adult)
    with pytest.raises(InvalidInput) as refused:
        complete(application, "initial_check", staff["village"], decision="return", opinion="x")
    assert list(refused.value.fields) == ["missing_material"]
    with pytest.raises(InvalidInput) as refused:
        complete(application, "initial_check", staff["village"], decision="reject", opinion="x")
    assert list(refused.value.fields) == ["reject_reason"]
    application.refresh_from_db()
    assert application.state == ApplicationState.INITIAL_CHECK


def test_a_rejected_application_ends_its_case(catalogue, staff, adult):
    application = register(staff["village"], adult)
    complete(
        application,
        "initial_check",
        staff["village"],
        decision="reject",
        opinion="不符合",
        reject_reason="非本村常住人口。",
    )
    assert application.state == ApplicationState.REJECTED
    application.instance.refresh_from_db()
    assert application.instance.state == InstanceState.COMPLETED
    assert AuditEvent.objects.filter(
        stream=f"device_application:{application.pk}", element_id="initial_check:reject"
    ).exists()


def test_the_county_sends_a_plan_back_to_the_assessor(catalogue, staff, adult):
    application = register(staff["village"], adult)
    through_checks(application, staff)
    complete(application, "assign_assessment", staff["county"], assessment_institution=ASSESSMENT)
    complete(
        application,
        "record_assessment",
        staff["assessor"],
        assessment="需轮椅",
        plan=PLAN_WHEELCHAIR,
    )
    complete(application, "approve_plan", staff["county"], decision="revise", opinion="价格偏高")
    assert application.state == ApplicationState.ASSESSMENT
    complete(
        application,
        "record_assessment",
        staff["assessor"],
        assessment="需轮椅",
        plan=[{"device_code": "FZ-YD-01", "quantity": 1, "unit_price": 1150}],
    )
    complete(application, "approve_plan", staff["county"], decision="approve", opinion="同意")
    assert application.subsidy_granted == application.price_total == 1150


def test_only_the_assigned_assessment_institution_sees_and_works_the_case(
    catalogue, staff, adult, api
):
    application = register(staff["village"], adult)
    through_checks(application, staff)
    complete(application, "assign_assessment", staff["county"], assessment_institution=ASSESSMENT)
    task = open_task(application, "record_assessment")
    assert task.scope == ASSESSMENT
    assert [t.pk for t in inbox_for_user(user=staff["assessor"])] == [task.pk]
    assert list(inbox_for_user(user=staff["assessor_b"])) == []

    # Another institution's assessor: refused by the service, 403 through the API, and the
    # case is not even there for them (404).
    data = {"assessment": "x", "plan": PLAN_WHEELCHAIR}
    with pytest.raises(NotAllowed):
        task_complete(task_id=task.pk, user=staff["assessor_b"], data=data)
    response = api(staff["assessor_b"]).post(
        f"/api/tasks/{task.pk}/complete/", {"data": data}, format="json"
    )
    assert response.status_code == 403
    assert (
        api(staff["assessor_b"])
        .get(f"/api/process-instances/{application.instance_id}/")
        .status_code
        == 404
    )
    assert application_for_user(user=staff["assessor_b"], pk=application.pk) is None
    assert list(applications_for_user(user=staff["assessor_b"])) == []
    application.refresh_from_db()
    assert application.state == ApplicationState.ASSESSMENT

    # Their own assessor sees the case (and the person's application) in full.
    assert application_for_user(user=staff["assessor"], pk=application.pk) == application
    assert (
        api(staff["assessor"]).get(f"/api/process-instances/{application.instance_id}/").status_code
        == 200
    )


def test_only_the_chosen_service_institution_sees_its_fittings(catalogue, staff, adult, child):
    mine = register(staff["village"], adult)
    through_approval(mine, staff)
    fit_and_accept(mine, staff)
    theirs = register(staff["village"], child, requested_devices=["FZ-JZ-01"])
    through_approval(
        theirs, staff, plan=[{"device_code": "FZ-JZ-01", "quantity": 1, "unit_price": 1900}]
    )
    complete(theirs, "choose_provider", staff["county"], service_institution="12330102MB0A00003K")
    assert list(applications_for_user(user=staff["provider"])) == [mine]
    assert list(applications_for_user(user=staff["provider_y"])) == [theirs]
    assert [t.instance_id for t in inbox_for_user(user=staff["provider_y"])] == [theirs.instance_id]
    assert list(inbox_for_user(user=staff["provider"])) == []


def test_staff_of_another_township_do_not_see_the_case(catalogue, staff, adult, make_user, api):
    application = register(staff["village"], adult)
    outsider = make_user("township_b", ("township_staff", TOWNSHIP_B))
    assert application_for_user(user=outsider, pk=application.pk) is None
    assert (
        api(outsider).get(f"/api/process-instances/{application.instance_id}/").status_code == 404
    )
    assert application_for_user(user=staff["township"], pk=application.pk) == application
    assert application_for_user(user=staff["county"], pk=application.pk) == application


def test_registering_for_a_person_outside_ones_village_is_refused(
    catalogue, staff, adult, make_user
):
    outsider = make_user("village_b1", ("village_officer", "330102102201"))
    with pytest.raises(NotAllowed):
        register(outsider, adult)
    assert ASSESSMENT_B  # the second assessment institution exists for the tests above


def test_each_step_is_due_in_working_days_with_a_reminder_and_escalation(
    clock, catalogue, staff, adult
):
    from datetime import timedelta

    from django.utils import timezone

    from workflows.models import Notification
    from workflows.services.deadlines import deadlines_sweep

    from .conftest import MARCH_3

    application = register(staff["village"], adult)  # Monday 3 March 2025
    task = open_task(application, "initial_check")
    assert timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M") == "2025-03-10 23:59"
    assert timezone.localtime(task.remind_at).date().isoformat() == "2025-03-07"
    assert task.escalation_role == "township_staff"
    clock.move_to(MARCH_3 + timedelta(days=8))
    assert deadlines_sweep() == (0, 1)
    task.refresh_from_db()
    assert task.escalated_at is not None
    assert Notification.objects.filter(reason="escalation", recipient=staff["township"]).exists()

    complete(application, "initial_check", staff["village"], decision="approve", opinion="属实")
    complete(application, "second_check", staff["township"], decision="approve", opinion="同意")
    complete(application, "assign_assessment", staff["county"], assessment_institution=ASSESSMENT)
    assessment = open_task(application, "record_assessment")
    # Assigned on Tuesday 11 March: 15 working days, to Tuesday 1 April.
    assert timezone.localtime(assessment.due_at).date().isoformat() == "2025-04-01"
    assert assessment.escalation_role == "county_staff"
