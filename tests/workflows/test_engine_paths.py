"""Fixture diagrams worked end to end through the services."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.conftest import COUNTY, TOWNSHIP_A, TOWNSHIP_B
from workflows.models import AuditKind, HumanTask, HumanTaskState, InstanceState
from workflows.selectors.inbox import inbox_for_user
from workflows.services.instances import instance_start
from workflows.services.tasks import task_complete

pytestmark = pytest.mark.django_db


def open_tasks(instance):
    return list(
        instance.human_tasks.filter(state=HumanTaskState.OPEN).order_by("element_id", "scope")
    )


def test_lane_assigns_the_role_and_the_gateway_follows_the_decision(
    deploy, township_a, county_clerk
):
    deploy("lanes_and_gateway")
    instance = instance_start(
        process_key="lanes_and_gateway", user=township_a, variables={"applicant": "张三"}
    )
    assert instance.scope == TOWNSHIP_A  # the starter's own unit
    [task] = open_tasks(instance)
    assert (task.element_id, task.candidate_roles, task.form_key) == (
        "township_check",
        ["township_staff"],
        "township_check",
    )

    task_complete(task_id=task.pk, user=township_a, data={"approved": True})
    instance.refresh_from_db()
    [review] = open_tasks(instance)
    assert review.element_id == "county_review"
    assert review.candidate_roles == ["county_staff"]  # lane named with the role's Chinese label
    assert instance.variables == {"applicant": "张三", "approved": True}

    task_complete(task_id=review.pk, user=county_clerk, data={})
    instance.refresh_from_db()
    assert instance.state == InstanceState.COMPLETED
    kinds = list(instance.audit_events.values_list("kind", flat=True))
    assert kinds == [
        AuditKind.INSTANCE_STARTED,
        AuditKind.TASK_COMPLETED,
        AuditKind.TASK_COMPLETED,
        AuditKind.INSTANCE_COMPLETED,
    ]


def test_exclusive_gateway_default_flow_ends_the_case(deploy, township_a):
    deploy("lanes_and_gateway")
    instance = instance_start(process_key="lanes_and_gateway", user=township_a)
    [task] = open_tasks(instance)
    task_complete(task_id=task.pk, user=township_a, data={"approved": False})
    instance.refresh_from_db()
    assert instance.state == InstanceState.COMPLETED
    assert open_tasks(instance) == []


def test_parallel_branches_join_before_the_condition(deploy, township_a, county_clerk):
    deploy("parallel_with_conditions")
    instance = instance_start(process_key="parallel_with_conditions", user=township_a)
    household, income = open_tasks(instance)
    assert (household.element_id, income.element_id) == ("check_household", "check_income")
    assert income.candidate_roles == ["county_staff", "township_staff"]
    task_complete(task_id=household.pk, user=township_a, data={"household_ok": True})
    assert [t.element_id for t in open_tasks(instance)] == ["check_income"]
    task_complete(task_id=income.pk, user=county_clerk, data={"income_ok": True})
    [approve] = open_tasks(instance)
    assert approve.element_id == "approve"


def test_script_task_computes_from_the_entered_data(deploy, county_clerk):
    deploy("script_task")
    instance = instance_start(
        process_key="script_task", user=county_clerk, variables={"amount_per_person": 1000}
    )
    [enter] = open_tasks(instance)
    task_complete(task_id=enter.pk, user=county_clerk, data={"persons": 48})
    instance.refresh_from_db()
    assert instance.variables["total"] == 48000
    assert instance.variables["summary"] == "48人，共48000元"
    assert [t.candidate_roles for t in open_tasks(instance)] == [["finance"]]


def test_call_activity_runs_the_called_process(deploy, county_clerk, township_a):
    deploy("call_activity")
    instance = instance_start(process_key="call_activity", user=county_clerk, org_unit=TOWNSHIP_A)
    [sub] = open_tasks(instance)
    assert sub.element_id == "sub_review"
    task_complete(task_id=sub.pk, user=township_a, data={"reviewed": True})
    [final] = open_tasks(instance)
    assert final.element_id == "final"
    task_complete(task_id=final.pk, user=county_clerk, data={})
    instance.refresh_from_db()
    assert instance.state == InstanceState.COMPLETED


def test_multi_instance_creates_one_task_per_item_scoped_to_it(
    deploy, county_clerk, township_a, township_b
):
    deploy("multi_instance")
    instance = instance_start(
        process_key="multi_instance",
        user=county_clerk,
        variables={"townships": [TOWNSHIP_A, TOWNSHIP_B]},
    )
    surveys = open_tasks(instance)
    assert sorted(t.scope for t in surveys) == [TOWNSHIP_A, TOWNSHIP_B]
    assert [t.scope for t in inbox_for_user(user=township_a)] == [TOWNSHIP_A]
    assert [t.scope for t in inbox_for_user(user=township_b)] == [TOWNSHIP_B]
    for task in surveys:
        user = township_a if task.scope == TOWNSHIP_A else township_b
        task_complete(task_id=task.pk, user=user, data={"new_applicants": 3})
    [summary] = open_tasks(instance)
    assert summary.element_id == "summary" and summary.scope == COUNTY


def test_assignee_and_candidate_users_from_expressions_with_due_dates(
    deploy, make_user, county_clerk
):
    receiver = make_user("receiver", ("township_staff", TOWNSHIP_A))
    start = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.get_current_timezone())
    with time_machine.travel(start, tick=False):
        deploy("expression_assignment")
        instance = instance_start(
            process_key="expression_assignment",
            user=county_clerk,
            variables={
                "first_receiver": "receiver",
                "reviewers": ["county_clerk", "someone"],
                "follow_up": "P3D",
            },
        )
    [handle] = open_tasks(instance)
    assert handle.assignee == receiver
    assert handle.due_at == start + timedelta(days=15)
    assert handle.follow_up_at == start + timedelta(days=3)
    assert [t.pk for t in inbox_for_user(user=receiver, assigned="me")] == [handle.pk]
    task_complete(task_id=handle.pk, user=receiver, data={})
    [review] = open_tasks(instance)
    assert review.candidate_users == ["county_clerk", "someone"]
    assert review.due_at.date().isoformat() == "2030-03-31"
    assert [t.pk for t in inbox_for_user(user=county_clerk)] == [review.pk]


def test_service_task_runs_its_registered_handler(deploy, county_clerk, test_handler):
    deploy("service_task")
    instance = instance_start(
        process_key="service_task", user=county_clerk, variables={"person": "李四"}
    )
    assert test_handler == [{"person": "李四"}]
    instance.refresh_from_db()
    assert instance.variables["found"] is True
    assert [t.element_id for t in open_tasks(instance)] == ["check"]


def test_the_inbox_shows_only_tasks_in_the_users_scope(
    deploy, township_a, township_b, county_clerk
):
    deploy("lanes_and_gateway")
    in_a = instance_start(process_key="lanes_and_gateway", user=township_a)
    in_b = instance_start(process_key="lanes_and_gateway", user=township_b)
    assert [t.instance_id for t in inbox_for_user(user=township_a)] == [in_a.pk]
    assert [t.instance_id for t in inbox_for_user(user=township_b)] == [in_b.pk]
    assert inbox_for_user(user=county_clerk).count() == 0  # county holds no township_staff role
    assert HumanTask.objects.count() == 2
