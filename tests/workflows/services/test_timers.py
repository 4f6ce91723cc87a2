"""Every timer kind, with time moved by time-machine and the sweep run as beat would."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.conftest import COUNTY
from workflows.models import AuditKind, InstanceState, ProcessInstance, Timer, TimerState
from workflows.services.instances import instance_start
from workflows.services.replay import instance_replay
from workflows.services.tasks import task_complete
from workflows.services.timers import timers_fire_due

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("every_case_replays")]
TZ = timezone.get_current_timezone()
START = datetime(2025, 3, 3, 9, 0, tzinfo=TZ)


def open_elements(instance):
    return sorted(instance.human_tasks.filter(state="open").values_list("element_id", flat=True))


def complete(instance, element, user, data=None):
    task = instance.human_tasks.get(state="open", element_id=element)
    task_complete(task_id=task.pk, user=user, data=data or {})
    instance.refresh_from_db()


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def test_intermediate_duration_and_date_timers_fire_on_time(
    clock, deploy, township_a, county_clerk
):
    deploy("timer_intermediate")
    instance = instance_start(
        process_key="timer_intermediate",
        user=township_a,
        variables={"deadline": "2025-03-31T23:59:59+08:00"},
    )
    complete(instance, "post_list", township_a)
    assert instance.state == InstanceState.WAITING
    [timer] = Timer.objects.filter(instance=instance, state=TimerState.WAITING)
    assert timer.element_id == "posting_period" and timer.fire_at == START + timedelta(days=5)

    clock.shift(timedelta(days=4, hours=23))
    assert timers_fire_due() == 0
    clock.shift(timedelta(hours=2))
    assert timers_fire_due() == 1
    instance.refresh_from_db()
    [waiting] = Timer.objects.filter(instance=instance, state=TimerState.WAITING)
    assert waiting.element_id == "wait_until_date"
    assert waiting.fire_at == datetime(2025, 3, 31, 23, 59, 59, tzinfo=TZ)

    clock.move_to(datetime(2025, 4, 1, 0, 0, 30, tzinfo=TZ))
    assert timers_fire_due() == 1
    assert timers_fire_due() == 0  # fires once
    instance.refresh_from_db()
    assert instance.state == InstanceState.RUNNING
    assert open_elements(instance) == ["county_review"]
    fired = instance.audit_events.filter(kind=AuditKind.TIMER_FIRED).count()
    assert fired == 2
    assert instance_replay(instance=instance).matches


def test_interrupting_boundary_timer_cancels_the_task_and_escalates(
    clock, deploy, township_a, make_user
):
    deploy("timer_boundaries")
    make_user("petitions", ("petition_office", COUNTY))
    instance = instance_start(process_key="timer_boundaries", user=township_a)
    assert open_elements(instance) == ["accept"]
    clock.shift(timedelta(days=16))
    timers_fire_due()
    instance.refresh_from_db()
    assert open_elements(instance) == ["supervise"]
    assert instance.human_tasks.get(element_id="accept").state == "cancelled"
    assert not Timer.objects.filter(instance=instance, state=TimerState.WAITING).exists()
    assert instance_replay(instance=instance).matches


def test_non_interrupting_cycle_timer_runs_beside_the_task(clock, deploy, township_a):
    deploy("timer_boundaries")
    instance = instance_start(process_key="timer_boundaries", user=township_a)
    reminder = Timer.objects.get(instance=instance, element_id="accept_reminder")
    assert reminder.fire_at == START + timedelta(days=1)
    clock.shift(timedelta(days=1, minutes=1))
    assert timers_fire_due() == 1
    instance.refresh_from_db()
    assert open_elements(instance) == ["accept"]  # the task goes on
    nxt = Timer.objects.get(instance=instance, element_id="accept_reminder", state="waiting")
    assert nxt.fire_at == START + timedelta(days=2)
    clock.shift(timedelta(days=1))
    timers_fire_due()
    assert not Timer.objects.filter(
        instance=instance, element_id="accept_reminder", state="waiting"
    ).exists()  # R2: two reminders, then no more
    assert instance_replay(instance=instance).matches


def test_boundary_timer_on_a_subprocess(clock, deploy, township_a, make_user):
    deploy("timer_boundaries")
    make_user("petitions", ("petition_office", COUNTY))
    instance = instance_start(process_key="timer_boundaries", user=township_a)
    complete(instance, "accept", township_a)
    assert open_elements(instance) == ["reply"]
    clock.shift(timedelta(days=61))
    timers_fire_due()
    instance.refresh_from_db()
    assert open_elements(instance) == ["supervise"]
    assert instance.human_tasks.get(element_id="reply").state == "cancelled"


def test_timer_behind_an_event_based_gateway_closes_the_case(clock, deploy, township_a):
    deploy("event_gateway")
    instance = instance_start(process_key="event_gateway", user=township_a)
    complete(instance, "reply", township_a)
    assert instance.subscriptions.get().name == "review_requested"
    clock.shift(timedelta(days=31))
    timers_fire_due()
    instance.refresh_from_db()
    assert instance.state == InstanceState.COMPLETED
    assert not instance.subscriptions.exists()
    assert instance_replay(instance=instance).matches


def test_timer_start_event_starts_an_instance_every_january(clock, deploy):
    definition = deploy("timer_start")
    [plan] = Timer.objects.filter(definition=definition, state=TimerState.WAITING)
    assert plan.fire_at == datetime(2026, 1, 2, 8, 0, tzinfo=TZ)
    clock.move_to(datetime(2026, 1, 2, 8, 0, 20, tzinfo=TZ))
    assert timers_fire_due() == 1
    assert timers_fire_due() == 0
    [instance] = ProcessInstance.objects.filter(definition=definition)
    assert open_elements(instance) == ["plan"]
    [following] = Timer.objects.filter(definition=definition, state=TimerState.WAITING)
    assert following.fire_at == datetime(2027, 1, 2, 8, 0, tzinfo=TZ)


def test_redeploying_moves_automatic_starts_to_the_new_version(clock, deploy, owner):
    from tests.conftest import BPMN
    from workflows.services.definitions import definition_deploy

    first = deploy("timer_start")
    changed = (BPMN / "timer_start.bpmn").read_text().replace("年度计划", "年度工作计划")
    second = definition_deploy(content=changed.encode(), user=owner).definition
    waiting = Timer.objects.filter(state=TimerState.WAITING, instance=None)
    assert list(waiting.values_list("definition_id", flat=True)) == [second.pk]
    assert first.pk != second.pk
