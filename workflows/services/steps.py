"""Writing one engine step: everything an instance now waits for, mirrored into rows.

Every write path (start, task completion, timer, job, message) ends here, inside the caller's
transaction and under the instance row lock, so the rows and the engine state never disagree.
"""

from __future__ import annotations

from datetime import datetime

from ..engine.runtime import BpmnWorkflowType, IdSequence, StepResult, workflow_data
from ..models import (
    AuditKind,
    HumanTask,
    HumanTaskState,
    InstanceState,
    Job,
    JobKind,
    JobState,
    ProcessInstance,
    Subscription,
    TaskCandidate,
    Timer,
    TimerState,
)
from .assignment import build_human_tasks
from .audit import InstanceAuditLog
from .job_queue import dispatch_after_commit
from .runtimes import runtime_for


def persist_step(
    instance: ProcessInstance,
    workflow: BpmnWorkflowType,
    step: StepResult,
    ids: IdSequence,
    audit: InstanceAuditLog,
    *,
    now: datetime,
    actor,
) -> None:
    """Save the instance and every row that follows from ``step``, and flush its audit events."""
    new_tasks, candidates = build_human_tasks(instance, step.created, now=now)
    if step.removed:
        HumanTask.objects.filter(
            instance=instance, task_id__in=step.removed, state=HumanTaskState.OPEN
        ).update(state=HumanTaskState.CANCELLED, completed_at=now)
    instance.serialized_state = runtime_for(instance.definition).dump(workflow)
    instance.variables = workflow_data(workflow)
    instance.task_id_counter = ids.counter
    instance.updated_at = now
    if step.completed:
        instance.mark_completed()
        audit.append(
            actor=actor,
            kind=AuditKind.INSTANCE_COMPLETED,
            at=now,
            payload={"variables": instance.variables},
        )
    elif instance.state in (InstanceState.RUNNING, InstanceState.WAITING):
        instance.mark_running() if step.ready_count else instance.mark_waiting()
    instance.save()
    _save_human_tasks(new_tasks, candidates)
    jobs = _sync_jobs(instance, step, now=now)
    if step.timers_changed or step.completed:
        _sync_timers(instance, step, now=now)
    if step.catches_changed or step.completed:
        _sync_subscriptions(instance, step)
    jobs += _jobs_for_thrown_events(instance, step, now=now)
    audit.flush()
    if jobs:
        dispatch_after_commit([job.pk for job in jobs])


def _save_human_tasks(new_tasks: list[HumanTask], candidates) -> None:
    if not new_tasks:
        return
    HumanTask.objects.bulk_create(new_tasks)
    rows = []
    for index, candidate in candidates:
        candidate.task = new_tasks[index]
        rows.append(candidate)
    TaskCandidate.objects.bulk_create(rows)


def _sync_jobs(instance: ProcessInstance, step: StepResult, *, now: datetime) -> list[Job]:
    from .. import extensions

    if step.jobs_removed:
        Job.objects.filter(
            instance=instance, task_id__in=step.jobs_removed, state=JobState.PENDING
        ).update(state=JobState.CANCELLED, finished_at=now)
    jobs = []
    for ready in step.jobs_created:
        handler = extensions.get_handler(ready.topic)
        jobs.append(
            Job(
                kind=JobKind.SERVICE_TASK,
                instance=instance,
                task_id=ready.task_id,
                element_id=ready.element_id,
                topic=ready.topic,
                max_attempts=handler.max_attempts if handler else 3,
                run_after=now,
                created_at=now,
            )
        )
    return Job.objects.bulk_create(jobs) if jobs else []


def _sync_timers(instance: ProcessInstance, step: StepResult, *, now: datetime) -> None:
    """Replace the instance's waiting timer rows with what the engine waits for now."""
    waiting = {} if step.completed else step.after.timers
    existing = {
        t.task_id: t for t in Timer.objects.filter(instance=instance, state=TimerState.WAITING)
    }
    gone = [t.pk for task_id, t in existing.items() if task_id not in waiting]
    if gone:
        Timer.objects.filter(pk__in=gone).update(state=TimerState.CANCELLED)
    changed = [
        (existing[task_id], timer)
        for task_id, timer in waiting.items()
        if task_id in existing and existing[task_id].fire_at != timer.fire_at
    ]
    for row, timer in changed:  # a cycle timer moves on to its next moment
        row.fire_at = timer.fire_at
        row.save(update_fields=["fire_at"])
    Timer.objects.bulk_create(
        Timer(
            instance=instance,
            task_id=timer.task_id,
            element_id=timer.element_id,
            fire_at=timer.fire_at,
            created_at=now,
        )
        for task_id, timer in waiting.items()
        if task_id not in existing
    )


def _sync_subscriptions(instance: ProcessInstance, step: StepResult) -> None:
    waiting = {} if step.completed else step.after.catches
    Subscription.objects.filter(instance=instance).delete()
    Subscription.objects.bulk_create(
        Subscription(
            instance=instance,
            kind=catch.kind,
            name=catch.name,
            correlation_key=instance.business_key,
            task_id=catch.task_id,
            element_id=catch.element_id,
        )
        for catch in waiting.values()
    )


def _jobs_for_thrown_events(instance: ProcessInstance, step: StepResult, *, now) -> list[Job]:
    """A message or signal thrown here is delivered to other instances by a job, after commit,
    so this transaction never waits on another instance's lock."""
    jobs = [
        Job(
            kind=JobKind.DELIVER_EVENT,
            instance=instance,
            topic=event.name,
            payload={
                "kind": event.kind,
                "name": event.name,
                "payload": event.payload,
                "correlation_key": _correlation_key(event.payload, instance),
            },
            run_after=now,
            created_at=now,
        )
        for event in step.thrown
    ]
    return Job.objects.bulk_create(jobs) if jobs else []


def _correlation_key(payload, instance: ProcessInstance) -> str:
    if isinstance(payload, dict) and payload.get("correlation_key"):
        return str(payload["correlation_key"])
    return instance.business_key
