"""Async service tasks as jobs: run once, retried with backoff, then an incident to retry."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from workflows import extensions
from workflows.models import AuditKind, InstanceState, Job, JobState
from workflows.services.instances import instance_retry, instance_start
from workflows.services.jobs import job_run, jobs_sweep
from workflows.services.replay import instance_replay

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("every_case_replays")]


@pytest.fixture
def compare_handler():
    """An idempotent handler whose behaviour a test can script."""
    state = {"calls": 0, "fail_times": 0}

    @extensions.service_handler("test_compare", asynchronous=True, max_attempts=3)
    def compare(variables):
        state["calls"] += 1
        if state["calls"] <= state["fail_times"]:
            raise ConnectionError("civil-affairs service did not answer")
        return {"flags": ["deceased"], "compared": variables.get("year")}

    yield state
    extensions.unregister_handler("test_compare")


@pytest.fixture
def started(compare_handler, deploy, county_clerk):
    deploy("async_service")
    return instance_start(process_key="async_service", user=county_clerk, variables={"year": 2025})


def test_the_instance_waits_while_its_job_is_pending(started):
    started.refresh_from_db()
    assert started.state == InstanceState.WAITING
    [job] = Job.objects.filter(instance=started)
    assert (job.state, job.topic, job.element_id) == (JobState.PENDING, "test_compare", "compare")
    assert not started.human_tasks.exists()


def test_a_job_runs_once_and_the_instance_continues(started, compare_handler):
    [job] = Job.objects.filter(instance=started)
    assert job_run(job_id=job.pk) == "done"
    assert job_run(job_id=job.pk) == "skipped"  # a second delivery finds nothing to do
    assert compare_handler["calls"] == 1
    started.refresh_from_db()
    assert started.state == InstanceState.RUNNING
    assert started.variables["flags"] == ["deceased"] and started.variables["compared"] == 2025
    assert started.human_tasks.get().element_id == "review"
    assert started.audit_events.filter(kind=AuditKind.JOB_COMPLETED).count() == 1
    assert instance_replay(instance=started).matches


def test_failures_back_off_then_raise_an_incident_that_retry_resumes(
    started, compare_handler, owner
):
    compare_handler["fail_times"] = 3
    [job] = Job.objects.filter(instance=started)
    assert job_run(job_id=job.pk) == "failed"
    job.refresh_from_db()
    assert job.state == JobState.PENDING and job.attempts == 1
    assert job.run_after >= timezone.now() + timedelta(seconds=25)  # backoff
    assert job_run(job_id=job.pk) == "skipped"  # not due yet
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        assert job_run(job_id=job.pk) == "failed"
        assert job_run(job_id=job.pk) == "skipped"
    with time_machine.travel(timezone.now() + timedelta(minutes=30)):
        assert job_run(job_id=job.pk) == "failed"
    job.refresh_from_db()
    started.refresh_from_db()
    assert job.state == JobState.FAILED and job.attempts == 3
    assert "ConnectionError: civil-affairs service did not answer" in job.last_error
    assert "Traceback" in job.last_traceback
    assert started.state == InstanceState.INCIDENT
    assert started.incident_element == "compare"
    assert "civil-affairs" in started.incident_message

    instance_retry(instance_id=started.pk, user=owner)
    job.refresh_from_db()
    assert job.state == JobState.PENDING and job.attempts == 0
    assert job_run(job_id=job.pk) == "done"
    started.refresh_from_db()
    assert started.state == InstanceState.RUNNING


def test_a_job_whose_worker_died_is_taken_again_after_its_lease(started, compare_handler):
    [job] = Job.objects.filter(instance=started)
    Job.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, locked_at=timezone.now(), attempts=1
    )
    assert jobs_sweep() == []  # still within the lease
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert jobs_sweep() == [job.pk]
        assert job_run(job_id=job.pk) == "done"
    assert compare_handler["calls"] == 1


def test_the_embedded_runner_runs_due_jobs(started, compare_handler, capsys):
    call_command("run_jobs", "--once")
    assert "jobs 1" in capsys.readouterr().out
    started.refresh_from_db()
    assert started.state == InstanceState.RUNNING


def test_immediate_dispatch_runs_the_job_right_after_commit(
    compare_handler, deploy, county_clerk, settings, django_capture_on_commit_callbacks
):
    settings.WORKFLOWS = {**settings.WORKFLOWS, "JOB_DISPATCH": "immediate"}
    deploy("async_service")
    with django_capture_on_commit_callbacks(execute=True):
        instance = instance_start(process_key="async_service", user=county_clerk)
    instance.refresh_from_db()
    assert instance.state == InstanceState.RUNNING
    assert compare_handler["calls"] == 1


def test_a_worker_that_outlived_its_lease_cannot_undo_the_job_done_by_another(
    started, compare_handler
):
    from workflows.services import jobs

    [job] = Job.objects.filter(instance=started)
    slow = jobs._claim(job.pk)  # worker A takes it, then hangs past the lease
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert jobs_sweep() == [job.pk]
        assert job_run(job_id=job.pk) == "done"  # worker B
        jobs._record_failure(slow, ConnectionError("A finally gave up"), "trace")
        jobs._finish(slow, {"flags": ["stale"]})
    job.refresh_from_db()
    started.refresh_from_db()
    assert job.state == JobState.DONE and job.attempts == 2
    assert started.state == InstanceState.RUNNING
    assert started.variables["flags"] == ["deceased"]  # B's result, once
    assert started.audit_events.filter(kind=AuditKind.JOB_COMPLETED).count() == 1


def test_the_celery_sweep_leaves_just_dispatched_jobs_alone(started):
    [job] = Job.objects.filter(instance=started)
    assert jobs_sweep(grace_seconds=30) == []
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        assert jobs_sweep(grace_seconds=30) == [job.pk]
