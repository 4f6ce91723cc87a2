"""Firing timers: instances' timer events and definitions' timer start events.

The sweep (Celery beat, or the embedded runner) calls ``timers_fire_due`` every interval. Each due
timer is handled under its instance's row lock and re-checked there, so a timer fires once even
when two sweeps run at the same moment.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from ..engine.runtime import EngineFailure, IdSequence, state_record
from ..engine.timeexpr import next_cycle_start
from ..exceptions import WorkflowError
from ..models import AuditKind, InstanceState, ProcessDefinition, ProcessInstance, Timer, TimerState
from .audit import InstanceAuditLog
from .handlers import recorded_inputs
from .runtimes import runtime_for
from .steps import persist_step

logger = logging.getLogger(__name__)


def timers_fire_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Fire what is due. Returns how many instances or starts were advanced."""
    now = now or timezone.now()
    due = Timer.objects.filter(state=TimerState.WAITING, fire_at__lte=now).order_by("fire_at")
    rows = list(due.values_list("pk", "instance_id", "definition_id")[:limit])
    fired = 0
    for instance_id in dict.fromkeys(i for _, i, _ in rows if i is not None):
        fired += instance_fire_timers(instance_id=instance_id, now=now)
    for timer_id, _, definition_id in rows:
        if definition_id is not None:
            fired += _fire_start_timer(timer_id=timer_id, now=now)
    return fired


def instance_fire_timers(*, instance_id: int, now: datetime) -> int:
    """Advance one instance past its due timers; 0 if another sweep got there first."""
    with transaction.atomic():
        instance = (
            ProcessInstance.objects.select_for_update(skip_locked=True)
            .select_related("definition")
            .filter(pk=instance_id)
            .first()
        )
        if instance is None:
            return 0  # locked by a worker right now; the next sweep will look again
        due = list(instance.timers.filter(state=TimerState.WAITING, fire_at__lte=now))
        if not due or instance.state not in (InstanceState.RUNNING, InstanceState.WAITING):
            return 0
        runtime = runtime_for(instance.definition)
        workflow = runtime.load(instance.serialized_state)
        ids = IdSequence(instance.uuid, instance.task_id_counter)
        audit = InstanceAuditLog(instance)
        try:
            step = runtime.fire_timers(workflow, ids=ids, now=now)
        except EngineFailure as failure:
            _incident(instance, failure, audit, now)
            return 1
        Timer.objects.filter(pk__in=[t.pk for t in due]).update(
            state=TimerState.FIRED, fired_at=now
        )
        audit.append(
            actor="",
            kind=AuditKind.TIMER_FIRED,
            at=now,
            element_id=",".join(sorted({t.element_id for t in due})),
            payload={
                "timers": [{"element": t.element_id, "due": t.fire_at.isoformat()} for t in due],
                **recorded_inputs(step),
                **state_record(workflow),
            },
        )
        persist_step(instance, workflow, step, ids, audit, now=now, actor=None)
    return 1


def _incident(instance: ProcessInstance, failure: EngineFailure, audit, now) -> None:
    instance.raise_incident(message=failure.message, element=failure.element, detail=failure.detail)
    instance.updated_at = now
    audit.append(
        actor="",
        kind=AuditKind.INCIDENT_RAISED,
        element_id=failure.element,
        at=now,
        payload={"message": failure.message, "line": failure.line, "cause": "timer"},
    )
    instance.save()
    audit.flush()


# --- timer start events ---------------------------------------------------------------------


def schedule_start_timers(definition: ProcessDefinition, *, now: datetime) -> None:
    """Plan the next automatic start of the newest version of a procedure (older versions of
    the same key stop starting by themselves)."""
    Timer.objects.filter(
        definition__key=definition.key, instance=None, state=TimerState.WAITING
    ).update(state=TimerState.CANCELLED)
    for trigger in runtime_for(definition).parsed.start_triggers:
        if trigger.kind != "timer":
            continue
        fire_at = next_cycle_start(trigger.value, after=now)
        if fire_at is not None:
            Timer.objects.create(
                definition=definition, element_id=trigger.element, fire_at=fire_at, created_at=now
            )


def _fire_start_timer(*, timer_id: int, now: datetime) -> int:
    from .instances import instance_start

    with transaction.atomic():
        timer = (
            Timer.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("definition")
            .filter(pk=timer_id, state=TimerState.WAITING)
            .first()
        )
        if timer is None:
            return 0
        definition = timer.definition
        timer.state, timer.fired_at = TimerState.FIRED, now
        timer.save(update_fields=["state", "fired_at"])
        try:
            with transaction.atomic():
                instance_start(
                    process_key=definition.key,
                    user=None,
                    org_unit="",
                    variables={"started_by_timer": timer.fire_at.isoformat()},
                    definition=definition,
                )
        except WorkflowError as exc:
            logger.error("timer start of %s failed: %s", definition.key, exc.message)
        trigger = next(
            (t for t in runtime_for(definition).parsed.start_triggers if t.kind == "timer"), None
        )
        following = next_cycle_start(trigger.value, after=timer.fire_at) if trigger else None
        if following is not None:
            Timer.objects.create(
                definition=definition,
                element_id=timer.element_id,
                fire_at=following,
                created_at=now,
            )
    return 1
