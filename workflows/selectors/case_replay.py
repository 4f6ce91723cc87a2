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

from django.db import transaction

from .. import extensions
from ..models import AuditEvent, AuditKind, HumanTask, ProcessInstance
from ..replay_findings import Difference, Disagreement
from ..services.audit import ChainBreak, audit_verify, instance_stream
from ..services.replay import _ENGINE_EVENTS, Replayer, collector_paused, reader_for

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
    replay_problem: str = ""  # in the reader's language, with the diagram's step names
    disagreement: Disagreement | None = None  # the same, as data


@dataclass
class CaseHistory:
    instance: ProcessInstance
    frames: list[Frame]
    human_tasks: dict[str, HumanTask]
    streams: tuple[str, ...]  # the chains shown: the case's own, then its records'
    replay_problem: str = ""  # the first event the re-execution could not follow, if any
    final_differences: list[str] = field(default_factory=list)  # as the reader says them
    final_findings: list[Difference] = field(default_factory=list)  # the same, as data


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


def _timed(events, key):
    return ((key(e), order, e) for order, e in enumerate(events))


class _EngineStepper:
    """Re-executes the instance chain event by event; keeps going (frozen) after a problem."""

    def __init__(self, instance: ProcessInstance):
        self.replayer = Replayer(instance)
        self.reader = reader_for(instance.definition)
        self.states: dict[str, str] = {}
        self.data: dict = {}
        self.open_tasks: list[str] = []
        self.problem = ""
        self.stopped = False

    def step(self, event: AuditEvent) -> tuple[str, Disagreement | None]:
        """Apply ``event``; the problem found at it ("" when it replayed as recorded)."""
        if event.kind in _ENDED:
            self.states = {
                e: ("cancelled" if s in ("active", "waiting") else s)
                for e, s in self.states.items()
            }
            self.open_tasks = []
            return "", None
        if event.kind == AuditKind.INCIDENT_RAISED and event.element_id:
            self.states = {**self.states, event.element_id: "incident"}
            return "", None
        if event.kind not in _ENGINE_EVENTS or self.stopped:
            return "", None
        found = self.replayer.step(event)
        if found is not None and not found.applied:
            self.stopped = True  # the replay cannot go on past an event it could not apply
        if self.replayer.workflow is not None and not self.stopped:
            workflow, tracker = self.replayer.workflow, self.replayer.tracker
            self.states = tracker.element_states()
            self.data = tracker.data(workflow)
            self.open_tasks = tracker.ready_user_tasks(workflow)
        if found is None:
            return "", None
        text = self.reader.disagreement(found)
        self.problem = self.problem or text
        return text, found

    def final_findings(self, instance: ProcessInstance) -> list[Difference]:
        if self.replayer.workflow is None:
            return []
        return self.replayer.final_findings(instance)


def case_history(*, instance: ProcessInstance) -> CaseHistory:
    """Every frame of the case (the caller has checked that the user may read it).

    Nothing the re-execution does is kept: it runs in a transaction that is rolled back."""
    with transaction.atomic(), collector_paused():
        history = _case_history(instance)
        transaction.set_rollback(True)
    return history


def _case_history(instance: ProcessInstance) -> CaseHistory:
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
            problem, found = stepper.step(event) if own_event else ("", None)
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
                disagreement=found,
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
    if stepper.replayer.workflow is None:
        history.final_differences = [
            stepper.reader.disagreement(Disagreement(0, "", "", "no_start"))
        ]
    else:
        history.final_findings = stepper.final_findings(instance)
        history.final_differences = stepper.reader.differences(history.final_findings)
    return history


def case_verify(history: CaseHistory) -> CaseVerification:
    """Check the chains the history was built from, and what the re-execution found."""
    checked, breaks = audit_verify(streams=list(history.streams))
    mismatch = next((f for f in history.frames if f.replay_problem), None)
    return CaseVerification(checked, breaks, mismatch, history.final_differences)
