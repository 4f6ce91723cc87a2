"""A case's history as an auditor steps through it: one frame per event, in time order.

The case's own chain is re-executed on the exact definition version it ran on (the same inputs
at the same moments, as ``services.replay`` does), so each frame carries the state of every
diagram element and the case's data *at that moment*, not as they are now. Events of the case's
domain records (a petition's decisions, an application's transitions) and of other chains that
concern it (a registry view of a full ID number) are merged in by time.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime

from SpiffWorkflow.util.task import TaskState

from .. import extensions
from ..engine.runtime import (
    EngineFailure,
    NotWaiting,
    TaskNotReady,
    state_digest,
    task_states,
)
from ..engine.runtime import workflow_data as engine_data
from ..engine.specs import HandlerServiceTask
from ..models import AuditEvent, AuditKind, HumanTask, ProcessInstance
from ..services.audit import ChainBreak, audit_verify, instance_stream
from ..services.definitions import runtime_for
from ..services.replay import (
    _ENGINE_EVENTS,
    _apply,
    _compare_final,
    initial_definition,
    replay_start,
)

# An element shows the strongest state of its tasks (a loop's step is active again although an
# earlier round of it completed).
_STATE_RANK = {"cancelled": 1, "completed": 2, "waiting": 3, "active": 4, "incident": 5}
_ENGINE_STATE = {
    TaskState.READY: "active",
    TaskState.STARTED: "active",
    TaskState.WAITING: "waiting",
    TaskState.COMPLETED: "completed",
    TaskState.CANCELLED: "cancelled",
    TaskState.ERROR: "incident",
}
_ENDED = {AuditKind.INSTANCE_TERMINATED}


@dataclass
class Frame:
    """One step of the history: the event, and the case as it stood right after it."""

    index: int
    source: str  # "instance", "record" (a domain record's chain) or another chain's name
    stream: str
    sequence: int
    at: datetime
    actor: str
    kind: str
    label: str  # what the kind is called; a record's change names itself
    element_id: str
    task_id: str
    payload: dict
    states: dict[str, str]
    data: dict
    open_tasks: list[str] = field(default_factory=list)  # engine ids of the READY user tasks
    replay_problem: str = ""


@dataclass
class CaseHistory:
    instance: ProcessInstance
    frames: list[Frame]
    human_tasks: dict[str, HumanTask]
    streams: tuple[str, ...]  # the chains shown: the case's own, then its records'
    replay_problem: str = ""  # the first event the re-execution could not follow, if any
    final_differences: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CaseVerification:
    """Is the record intact (hash chains) and does it explain the stored state (re-execution)?"""

    events_checked: int
    breaks: list[ChainBreak]
    mismatch: Frame | None  # the first event whose replayed state differs from the recorded one
    final_differences: list[str]

    @property
    def intact(self) -> bool:
        return not self.breaks

    @property
    def reproduces(self) -> bool:
        return self.mismatch is None and not self.final_differences


def element_states(workflow) -> dict[str, str]:
    states: dict[str, str] = {}
    for task in workflow.get_tasks():
        element = task.task_spec.bpmn_id
        state = _ENGINE_STATE.get(task.state)
        if not element or state is None:
            continue
        if _STATE_RANK[state] > _STATE_RANK.get(states.get(element, ""), 0):
            states[element] = state
    return states


def _ready_user_tasks(workflow) -> list[str]:
    """The open user tasks (the host mirrors exactly these as HumanTask rows)."""
    return [
        str(t.id)
        for t in workflow.get_tasks(state=TaskState.READY, manual=True)
        if not isinstance(t.task_spec, HandlerServiceTask)
    ]


def _timed(events, key):
    return ((key(e), order, e) for order, e in enumerate(events))


class _EngineStepper:
    """Re-executes the instance chain event by event; keeps going (frozen) after a problem."""

    def __init__(self, instance: ProcessInstance):
        self.runtime = runtime_for(initial_definition(instance))
        self.workflow = None
        self.ids = None
        self.states: dict[str, str] = {}
        self.data: dict = {}
        self.open_tasks: list[str] = []
        self.problem = ""

    def step(self, event: AuditEvent) -> str:
        """Apply ``event``; returns a problem found at it ("" when it replayed as recorded)."""
        if event.kind in _ENDED:
            self.states = {
                e: ("cancelled" if s in ("active", "waiting") else s)
                for e, s in self.states.items()
            }
            self.open_tasks = []
            return ""
        if event.kind == AuditKind.INCIDENT_RAISED and event.element_id:
            self.states = {**self.states, event.element_id: "incident"}
            return ""
        if event.kind not in _ENGINE_EVENTS or self.problem:
            return ""
        try:
            if event.kind == AuditKind.INSTANCE_STARTED:
                self.workflow, self.ids = replay_start(self.runtime, event)
            elif self.workflow is None:
                raise TaskNotReady("no start event precedes this event")
            else:
                self.runtime = _apply(self.runtime, self.workflow, event, self.ids)
        except (EngineFailure, TaskNotReady, NotWaiting, KeyError, ValueError) as exc:
            self.problem = f"event {event.sequence}: {exc}"
            return self.problem
        self.states = element_states(self.workflow)
        self.data = engine_data(self.workflow)
        self.open_tasks = _ready_user_tasks(self.workflow)
        expected = event.payload.get("state_digest", "")
        if expected and state_digest(self.workflow) != expected:
            return "the replayed state differs from the state recorded at this event"
        return ""

    def final_differences(self, instance: ProcessInstance) -> list[str]:
        """How the replayed end differs from the state the database holds now."""
        if self.workflow is None:
            return ["the history has no start event"]
        stored = ProcessInstance.objects.values_list("serialized_state", flat=True).get(
            pk=instance.pk
        )
        return _compare_final(task_states(self.workflow), task_states(self.runtime.load(stored)))


def case_history(*, instance: ProcessInstance) -> CaseHistory:
    """Every frame of the case (the caller has checked that the user may read it)."""
    records = extensions.case_records(instance)
    own = list(instance.audit_events.order_by("sequence"))
    domain = (
        list(AuditEvent.objects.filter(stream__in=records.streams).order_by("stream", "sequence"))
        if records.streams
        else []
    )
    by_stream: dict[str, list[AuditEvent]] = {}
    for event in domain:
        by_stream.setdefault(event.stream, []).append(event)
    # Each chain is in time order already; merging keeps each chain's own order.
    sources = [_timed(own, lambda e: e.created_at)]
    sources += [_timed(events, lambda e: e.created_at) for events in by_stream.values()]
    sources.append(_timed(sorted(records.events, key=lambda e: e.at), lambda e: e.at))
    kinds = dict(AuditKind.choices)
    stepper = _EngineStepper(instance)
    frames: list[Frame] = []
    for _, _, event in heapq.merge(*sources, key=lambda item: (item[0], item[1])):
        if isinstance(event, AuditEvent):
            own_event = event.instance_id == instance.pk
            problem = stepper.step(event) if own_event else ""
            record = event.kind == AuditKind.RECORD_CHANGED
            frame = Frame(
                index=len(frames),
                source="instance" if own_event else "record",
                stream=event.stream,
                sequence=event.sequence,
                at=event.created_at,
                actor=event.actor,
                kind=event.kind,
                label=event.element_id if record else str(kinds.get(event.kind, event.kind)),
                element_id="" if record else event.element_id,
                task_id=event.task_id,
                payload=event.payload or {},
                states=stepper.states,
                data=stepper.data,
                open_tasks=stepper.open_tasks,
                replay_problem=problem,
            )
        else:
            frame = Frame(
                index=len(frames),
                source=event.source,
                stream=event.source,
                sequence=event.sequence,
                at=event.at,
                actor=event.actor,
                kind=event.kind,
                label=event.label,
                element_id="",
                task_id="",
                payload=event.payload,
                states=stepper.states,
                data=stepper.data,
                open_tasks=stepper.open_tasks,
            )
        frames.append(frame)
    human_tasks = {str(t.task_id): t for t in instance.human_tasks.all()}
    history = CaseHistory(
        instance,
        frames,
        human_tasks,
        (instance_stream(instance.pk), *records.streams),
        stepper.problem,
    )
    history.final_differences = stepper.final_differences(instance)
    return history


def case_verify(history: CaseHistory) -> CaseVerification:
    """Check the chains the history was built from, and what the re-execution found."""
    checked, breaks = audit_verify(streams=list(history.streams))
    mismatch = next((f for f in history.frames if f.replay_problem), None)
    return CaseVerification(checked, breaks, mismatch, history.final_differences)
