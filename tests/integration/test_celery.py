"""Jobs and timers through real Celery workers and beat, on PostgreSQL and Redis.

Each test starts two workers (solo pool) and a beat sweeping every second as subprocesses; this
process dispatches through Celery too. The handler (tests/integration/handlers.py) logs every call
and makes an idempotent receipt per ticket, so the tests count how often work really ran.
"""

from __future__ import annotations

import logging
from collections import Counter

import pytest
from django.db.models import Count

from config import celery_app
from workflows import extensions
from workflows.models import (
    AuditKind,
    InstanceState,
    Job,
    JobState,
    ProcessInstance,
    Timer,
    TimerState,
)
from workflows.services.instances import instance_start

from .cluster import LEASE_SECONDS, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

KEY = "integration_async_timer"
CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"


def point_celery_at(url: str) -> None:
    """Make this process publish to ``url`` from now on (Celery caches its connection pool)."""
    celery_app.conf.broker_url = url
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def celery_dispatch(settings, broker):
    """This process hands jobs to the real broker after commit, as the web processes do."""
    configured = celery_app.conf.broker_url
    settings.WORKFLOWS = {**settings.WORKFLOWS, "JOB_DISPATCH": "celery"}
    settings.CELERY_BROKER_URL = broker
    point_celery_at(broker)
    yield settings
    point_celery_at(configured)


@pytest.fixture
def definition(celery_dispatch, deploy):
    """The fixture diagram, deployed with its handler registered here too (for the deploy check
    and the job's attempts); imported only now, so other tests never see the handler."""
    from . import handlers

    handlers.register()
    yield deploy(KEY)
    extensions.unregister_handler(handlers.TOPIC)


@pytest.fixture
def start(definition, county_clerk):
    def start_one(ticket: str, **variables) -> ProcessInstance:
        return instance_start(
            process_key=KEY, user=county_clerk, variables={"ticket": ticket, **variables}
        )

    return start_one


def wait_for_completion(ids: list[int], cluster, *, timeout: float) -> None:
    def all_completed() -> bool:
        done = ProcessInstance.objects.filter(pk__in=ids, state=InstanceState.COMPLETED)
        return done.count() == len(ids)

    try:
        wait_until(all_completed, timeout=timeout, what=f"{len(ids)} instances", cluster=cluster)
    except AssertionError as timed_out:
        raise AssertionError(f"{timed_out}; {progress(ids)}") from None


def progress(ids: list[int]) -> str:
    def tally(queryset, field: str) -> dict:
        return dict(Counter(queryset.values_list(field, flat=True)))

    instances = tally(ProcessInstance.objects.filter(pk__in=ids), "state")
    jobs = tally(Job.objects.filter(instance__in=ids), "state")
    timers = tally(Timer.objects.filter(instance__in=ids), "state")
    return f"instances {instances}, jobs {jobs}, timers {timers}"


def events_per_instance(ids: list[int], kind: str) -> Counter:
    per_instance = Counter(dict.fromkeys(ids, 0))
    rows = (
        ProcessInstance.objects.filter(pk__in=ids, audit_events__kind=kind)
        .values_list("pk")
        .annotate(n=Count("audit_events"))
    )
    per_instance.update(dict(rows))
    return per_instance


def test_two_hundred_instances_complete_and_every_job_runs_exactly_once(
    cluster, start, handler_record
):
    tickets = [f"t{n:03d}" for n in range(200)]
    ids = [start(ticket).pk for ticket in tickets]

    wait_for_completion(ids, cluster, timeout=100)

    assert handler_record.call_counts() == Counter(dict.fromkeys(tickets, 1))
    assert sorted(handler_record.receipts()) == tickets
    jobs = Job.objects.filter(instance__in=ids)
    assert Counter(jobs.values_list("state", "attempts")) == {(JobState.DONE, 1): 200}
    assert set(events_per_instance(ids, AuditKind.JOB_COMPLETED).values()) == {1}
    assert set(events_per_instance(ids, AuditKind.TIMER_FIRED).values()) == {1}
    timers = Timer.objects.filter(instance__in=ids)
    assert Counter(timers.values_list("state", flat=True)) == {TimerState.FIRED: 200}
    both_worked = {cluster.name_of(pid) for _, pid in handler_record.calls()}
    assert both_worked == {"worker1", "worker2"}


def test_a_worker_killed_in_the_middle_of_a_job_loses_nothing_and_the_job_takes_effect_once(
    cluster, start, handler_record
):
    slow = start("slow", sleep_seconds=3)
    others = [start(f"k{n:02d}").pk for n in range(20)]

    def slow_job_running() -> int | None:
        return next((pid for ticket, pid in handler_record.calls() if ticket == "slow"), None)

    victim_pid = wait_until(slow_job_running, timeout=20, what="the slow job", cluster=cluster)
    victim = cluster.name_of(victim_pid)
    cluster.kill(victim)

    wait_for_completion([slow.pk, *others], cluster, timeout=40 + LEASE_SECONDS)

    runs = [pid for ticket, pid in handler_record.calls() if ticket == "slow"]
    survivor = ({"worker1", "worker2"} - {victim}).pop()
    assert runs == [victim_pid, cluster.pid(survivor)]  # retried elsewhere after the lease
    assert handler_record.receipts()["slow"] == victim_pid  # the effect happened once
    job = Job.objects.get(instance=slow)
    assert (job.state, job.attempts) == (JobState.DONE, 2)
    slow.refresh_from_db()
    assert slow.variables["recorded"] == "slow"
    assert set(events_per_instance([slow.pk], AuditKind.JOB_COMPLETED).values()) == {1}
    assert set(events_per_instance([slow.pk], AuditKind.TIMER_FIRED).values()) == {1}
    counts = handler_record.call_counts()
    assert all(counts[f"k{n:02d}"] == 1 for n in range(20))


def test_a_job_saved_while_the_broker_is_down_is_run_by_the_sweep(
    cluster, start, handler_record, celery_dispatch, caplog
):
    celery_dispatch.CELERY_BROKER_URL = CLOSED_PORT_BROKER
    point_celery_at(CLOSED_PORT_BROKER)
    with caplog.at_level(logging.WARNING, logger="workflows.services.jobs"):
        instance = start("offline")
    [job] = Job.objects.filter(instance=instance)  # saved with the instance, whatever the broker
    assert f"could not hand jobs [{job.pk}] to the broker" in caplog.text

    wait_for_completion([instance.pk], cluster, timeout=30)

    assert handler_record.call_counts() == {"offline": 1}
    job.refresh_from_db()
    assert (job.state, job.attempts) == (JobState.DONE, 1)


def test_two_beats_by_mistake_still_fire_each_timer_exactly_once(cluster, start, handler_record):
    cluster.start("beat", "beat2")
    cluster.wait_ready()
    ids = [start(f"b{n:02d}").pk for n in range(60)]

    wait_for_completion(ids, cluster, timeout=60)

    assert set(events_per_instance(ids, AuditKind.TIMER_FIRED).values()) == {1}
    timers = Timer.objects.filter(instance__in=ids)
    assert Counter(timers.values_list("state", flat=True)) == {TimerState.FIRED: 60}
    assert set(events_per_instance(ids, AuditKind.JOB_COMPLETED).values()) == {1}
    assert len(handler_record.calls()) == 60
    for beat in ("beat1", "beat2"):  # both really were sending the sweep
        assert "Sending due task fuzhu-sweep" in cluster.log(beat)
