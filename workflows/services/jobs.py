"""Background jobs: async service tasks and cross-instance event delivery.

The Job row is the truth. ``dispatch_after_commit`` hands new jobs to Celery once the transaction
that created them has committed; if the broker is down, or a worker dies, the periodic sweep
(``jobs_sweep``) finds the row again. A job is claimed with ``select_for_update(skip_locked=True)``
and a lease, so two workers never run it at the same time.
"""

from __future__ import annotations

import logging
import os
import socket
import traceback
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import conf, extensions
from ..engine.runtime import EngineFailure, IdSequence, TaskNotReady, state_record
from ..exceptions import Conflict
from ..models import AuditKind, InstanceState, Job, JobKind, JobState
from .audit import InstanceAuditLog
from .handlers import as_recorded, recorded_inputs
from .locking import lock_instance
from .runtimes import runtime_for
from .steps import persist_step

logger = logging.getLogger(__name__)


def _worker_name() -> str:
    # Asked at claim time: under a prefork pool every child has its own pid.
    return f"{socket.gethostname()}:{os.getpid()}"


def _claim(job_id: int) -> Job | None:
    """Take the job if it is due and nobody holds it; None otherwise."""
    now = timezone.now()
    with transaction.atomic():
        job = (
            Job.objects.select_for_update(skip_locked=True)
            .filter(pk=job_id, state=JobState.PENDING, run_after__lte=now)
            .first()
        )
        if job is None:
            return None
        job.state, job.locked_at, job.locked_by = JobState.RUNNING, now, _worker_name()
        job.attempts += 1
        job.save(update_fields=["state", "locked_at", "locked_by", "attempts"])
    return job


def job_run(*, job_id: int) -> str:
    """Run one job if it is due and free. Returns what happened (for logs and tests)."""
    job = _claim(job_id)
    if job is None:
        return "skipped"
    try:
        result = _execute(job)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the job
        _record_failure(job, exc, traceback.format_exc())
        return "failed"
    try:
        _finish(job, result)
    except EngineFailure as failure:
        _record_failure(job, failure, failure.detail, engine=True)
        return "failed"
    except Conflict:
        _postpone(job)  # the instance is suspended or in incident: try again later
        return "postponed"
    return "done"


def _postpone(job: Job) -> None:
    _held(job).update(
        state=JobState.PENDING,
        attempts=max(job.attempts - 1, 0),
        locked_at=None,
        run_after=timezone.now() + timedelta(seconds=conf.get("SWEEP_INTERVAL_SECONDS")),
    )


def _execute(job: Job):
    """The work itself, outside any transaction (a handler may call slow services)."""
    if job.kind == JobKind.SERVICE_TASK:
        handler = extensions.get_handler(job.topic)
        if handler is None:
            raise LookupError(f"service task handler '{job.topic}' is not registered")
        variables = _task_variables(job)
        result = handler.func(variables)
        if result is not None and not isinstance(result, dict):
            raise TypeError(f"handler '{job.topic}' returned {type(result).__name__}, not a dict")
        return result or {}
    if job.kind == JobKind.DELIVER_EVENT:
        from .messages import event_deliver

        delivered = event_deliver(
            kind=job.payload["kind"],
            name=job.payload["name"],
            correlation_key=job.payload.get("correlation_key", ""),
            payload=job.payload.get("payload"),
            actor=None,
            exclude_instance=job.instance_id,
        )
        return {"delivered_to": delivered}
    raise ValueError(f"unknown job kind '{job.kind}'")


def _task_variables(job: Job) -> dict:
    instance = job.instance
    runtime = runtime_for(instance.definition)
    workflow = runtime.load(instance.serialized_state)
    return dict(workflow.get_task_from_id(job.task_id).data)


def _held(job: Job):
    """The job's row, if this worker still holds it: a worker that outlived its lease must not
    overwrite what the worker that took the job over has done."""
    return Job.objects.filter(pk=job.pk, state=JobState.RUNNING, attempts=job.attempts)


def _finish(job: Job, result: dict) -> None:
    now = timezone.now()
    with transaction.atomic():
        done = _held(job).update(state=JobState.DONE, result=result, finished_at=now, last_error="")
        if done and job.kind == JobKind.SERVICE_TASK:
            _continue_instance(job, result, now)


def _continue_instance(job: Job, result: dict, now) -> None:
    instance = lock_instance(job.instance_id)
    if instance.state not in (InstanceState.RUNNING, InstanceState.WAITING):
        raise Conflict(_("The case is %(state)s.") % {"state": instance.get_state_display()})
    runtime = runtime_for(instance.definition)
    workflow = runtime.load(instance.serialized_state)
    ids = IdSequence(instance.uuid, instance.task_id_counter)
    # The engine gets the result as the event records it, so a replay computes the same state.
    result = as_recorded(result) or {}
    try:
        step = runtime.complete_service_task(
            workflow, task_id=job.task_id, result=result, ids=ids, now=now
        )
    except TaskNotReady:
        return  # the task was cancelled meanwhile (e.g. an interrupting boundary timer)
    audit = InstanceAuditLog(instance)
    audit.append(
        actor="",
        kind=AuditKind.JOB_COMPLETED,
        task_id=str(job.task_id),
        element_id=job.element_id,
        at=now,
        payload={
            "topic": job.topic,
            "result": result,
            **recorded_inputs(step),
            **state_record(workflow),
        },
    )
    persist_step(instance, workflow, step, ids, audit, now=now, actor=None)


def _record_failure(job: Job, exc: Exception, trace: str, *, engine: bool = False) -> None:
    """Retry with backoff; after the last attempt, put the instance into incident."""
    now = timezone.now()
    handler = extensions.get_handler(job.topic)
    backoff = handler.backoff_seconds if handler else 30.0
    message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
    final = engine or job.attempts >= job.max_attempts
    with transaction.atomic():
        held = _held(job).update(
            state=JobState.FAILED if final else JobState.PENDING,
            run_after=now + timedelta(seconds=backoff * 2 ** (job.attempts - 1)),
            last_error=message,
            last_traceback=trace,
            locked_at=None,
            finished_at=now if final else None,
        )
        if held and final and job.instance_id and job.kind == JobKind.SERVICE_TASK:
            _raise_incident(job, message, trace, now)


def _raise_incident(job: Job, message: str, trace: str, now) -> None:
    instance = lock_instance(job.instance_id)
    if instance.state not in (InstanceState.RUNNING, InstanceState.WAITING):
        return
    instance.raise_incident(message=message, element=job.element_id, detail=trace)
    instance.updated_at = now
    audit = InstanceAuditLog(instance)
    audit.append(
        actor="",
        kind=AuditKind.JOB_FAILED,
        task_id=str(job.task_id or ""),
        element_id=job.element_id,
        at=now,
        payload={"topic": job.topic, "attempts": job.attempts, "error": message, "job": job.pk},
    )
    instance.save()
    audit.flush()


def jobs_sweep(*, limit: int = 500, grace_seconds: float = 0) -> list[int]:
    """Due jobs nobody is running, and jobs whose worker vanished past the lease: run them.

    ``grace_seconds``: leave out jobs due for less than that (Celery's sweep passes one sweep
    interval, so jobs just handed to the broker on commit are not sent a second time)."""
    now = timezone.now()
    lease = timedelta(seconds=conf.get("JOB_LEASE_SECONDS"))
    stale = Job.objects.filter(state=JobState.RUNNING, locked_at__lt=now - lease)
    stale.update(state=JobState.PENDING, locked_at=None, run_after=now - timedelta(hours=1))
    due_before = now - timedelta(seconds=grace_seconds)
    return list(
        Job.objects.filter(state=JobState.PENDING, run_after__lte=due_before)
        .order_by("run_after", "pk")
        .values_list("pk", flat=True)[:limit]
    )
