"""Re-executing an instance from its definition and its recorded inputs.

Every event that changed the engine state recorded its inputs (start variables, task data) and a
digest of the state it produced. Replay runs the same inputs through the same definition
version, with the same task-id sequence, and compares the digest after every event, then the
final task states and data with what is stored.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

from ..engine.runtime import (
    EngineFailure,
    IdSequence,
    NotWaiting,
    TaskNotReady,
    state_digest,
    task_states,
)
from ..models import AuditKind, ProcessDefinition, ProcessInstance
from .definitions import runtime_for

_ENGINE_EVENTS = {
    AuditKind.INSTANCE_STARTED,
    AuditKind.TASK_COMPLETED,
    AuditKind.TIMER_FIRED,
    AuditKind.JOB_COMPLETED,
    AuditKind.EVENT_RECEIVED,
    AuditKind.INSTANCE_MIGRATED,
}


@dataclass
class ReplayStep:
    sequence: int
    kind: str
    element: str
    matches: bool
    message: str = ""


@dataclass
class ReplayReport:
    instance_id: int
    steps: list[ReplayStep] = field(default_factory=list)
    final_matches: bool = False
    differences: list[str] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return self.final_matches and all(s.matches for s in self.steps)

    @property
    def first_mismatch(self) -> ReplayStep | None:
        return next((s for s in self.steps if not s.matches), None)


def _compare_final(replayed: list[dict], stored: list[dict]) -> list[str]:
    differences = []
    stored_by_id = {t["id"]: t for t in stored}
    replayed_by_id = {t["id"]: t for t in replayed}
    for task_id in sorted(set(stored_by_id) | set(replayed_by_id)):
        a, b = replayed_by_id.get(task_id), stored_by_id.get(task_id)
        if a is None or b is None:
            where = "only in the stored state" if a is None else "only in the replay"
            differences.append(f"task {(a or b)['element']} ({task_id}) is {where}")
        elif a["state"] != b["state"]:
            differences.append(f"task {a['element']}: replay {a['state']}, stored {b['state']}")
        elif _canonical(a["data"]) != _canonical(b["data"]):
            differences.append(f"task {a['element']}: data differs")
    return differences


def _canonical(data) -> str:
    return json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)


def initial_definition(instance: ProcessInstance) -> ProcessDefinition:
    """The version a case started on: its current one, unless it was moved since."""
    moved = (
        instance.audit_events.filter(kind=AuditKind.INSTANCE_MIGRATED).order_by("sequence").first()
    )
    if moved is None:
        return instance.definition
    return ProcessDefinition.objects.get(pk=moved.payload["from_definition"])


def recorded_handlers(event) -> dict:
    """The synchronous handlers' results the event recorded: a replay never calls a handler
    (it reads and writes the host's tables, and would answer as things stand now)."""
    return event.payload.get("handlers") or {}


def replay_start(runtime, event):
    """Re-run a recorded start; (workflow, task-id sequence)."""
    ids = IdSequence(uuid.UUID(event.payload["uuid"]))
    workflow, _ = runtime.start(
        variables=event.payload.get("variables", {}),
        ids=ids,
        now=event.created_at,
        handler_results=recorded_handlers(event),
    )
    return workflow, ids


def _apply(runtime, workflow, event, ids):
    """Re-run one recorded input at the moment it happened; returns the runtime to go on with
    (another version's after a migration)."""
    now, payload = event.created_at, event.payload
    handlers = recorded_handlers(event)
    if event.kind == AuditKind.INSTANCE_MIGRATED:
        from ..engine.migration import MigrationRefused, migrate

        target = runtime_for(ProcessDefinition.objects.get(pk=payload["to_definition"]))
        try:
            migrate(workflow, target, ids=ids, now=now, handler_results=handlers)
        except MigrationRefused as refused:
            raise TaskNotReady(f"the move to version {payload['to_version']}: {refused}") from None
        return target
    if event.kind == AuditKind.TASK_COMPLETED:
        task_id = uuid.UUID(event.task_id)
        runtime.complete_user_task(
            workflow,
            task_id=task_id,
            data=payload.get("data", {}),
            ids=ids,
            now=now,
            handler_results=handlers,
        )
    elif event.kind == AuditKind.JOB_COMPLETED:
        task_id = uuid.UUID(event.task_id)
        runtime.complete_service_task(
            workflow,
            task_id=task_id,
            result=payload.get("result"),
            ids=ids,
            now=now,
            handler_results=handlers,
        )
    elif event.kind == AuditKind.TIMER_FIRED:
        runtime.fire_timers(workflow, ids=ids, now=now, handler_results=handlers)
    elif event.kind == AuditKind.EVENT_RECEIVED:
        runtime.deliver(
            workflow,
            kind=payload["kind"],
            name=payload["name"],
            payload=payload.get("payload"),
            ids=ids,
            now=now,
            handler_results=handlers,
        )
    return runtime


def instance_replay(*, instance: ProcessInstance) -> ReplayReport:
    """Replay ``instance``; the report says, event by event, whether the replay matched."""
    report = ReplayReport(instance_id=instance.pk)
    runtime = runtime_for(initial_definition(instance))
    workflow, ids = None, None
    for event in instance.audit_events.order_by("sequence"):
        if event.kind not in _ENGINE_EVENTS:
            continue
        expected = event.payload.get("state_digest", "")
        try:
            if event.kind == AuditKind.INSTANCE_STARTED:
                workflow, ids = replay_start(runtime, event)
            elif workflow is None:
                raise TaskNotReady("no start event precedes this event")
            else:
                runtime = _apply(runtime, workflow, event, ids)
        except (
            EngineFailure,
            TaskNotReady,
            NotWaiting,
            KeyError,
            ValueError,
            ProcessDefinition.DoesNotExist,
        ) as exc:
            report.steps.append(
                ReplayStep(event.sequence, event.kind, event.element_id, False, str(exc))
            )
            return report
        digest = state_digest(workflow)
        ok = digest == expected
        report.steps.append(
            ReplayStep(
                event.sequence,
                event.kind,
                event.element_id,
                ok,
                "" if ok else "the replayed state differs from the state recorded at this event",
            )
        )
    if workflow is None:
        report.differences.append("the history has no start event")
        return report
    # Compare with what the database holds now, not with a possibly stale object.
    stored_state = ProcessInstance.objects.values_list("serialized_state", flat=True).get(
        pk=instance.pk
    )
    stored = runtime.load(stored_state)
    report.differences = _compare_final(task_states(workflow), task_states(stored))
    report.final_matches = not report.differences
    return report
