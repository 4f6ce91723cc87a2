"""Time, timers, messages and signals as the host sees them.

SpiffWorkflow has no scheduler and reads the wall clock itself. The host needs one clock (so tests
and replays can set it) and a list of what each instance waits for (so it can store timers and
message subscriptions as rows). This module provides both.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import SpiffWorkflow.bpmn.specs.event_definitions.timer as spiff_timer
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import (
    MessageEventDefinition as BaseMessageEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

# --- One clock ------------------------------------------------------------------------------
_clock: contextvars.ContextVar[datetime | None] = contextvars.ContextVar(
    "fuzhu_clock", default=None
)


class _EngineDatetime(datetime):
    """SpiffWorkflow's timers call ``datetime.now(timezone.utc)``; this answers with the host's
    clock while the host drives an instance (so a replay runs at the recorded moment)."""

    @classmethod
    def now(cls, tz=None):
        moment = _clock.get()
        if moment is None:
            return datetime.now(tz)
        return moment.astimezone(tz) if tz else moment


spiff_timer.datetime = _EngineDatetime


@contextlib.contextmanager
def engine_clock(moment: datetime) -> Iterator[None]:
    token = _clock.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _clock.reset(token)


# --- Messages ------------------------------------------------------------------------------


class FuzhuMessageEventDefinition(MessageEventDefinition):
    """A Camunda message whose payload, when it is a JSON object, becomes process variables
    (Camunda's "correlate with variables"); other payloads go to ``camunda:resultVariable``."""

    def update_task_data(self, my_task):
        event_data = my_task.internal_data.get(self.name) or {}
        payload, result_var = event_data.get("payload"), event_data.get("result_var")
        if isinstance(payload, dict) and not self.result_var:
            my_task.data.update(payload)
        elif payload is not None:
            my_task.data[result_var or f"{my_task.task_spec.bpmn_id}_response"] = payload


# --- What an instance waits for ----------------------------------------------------------


@dataclass(frozen=True)
class WaitingTimer:
    task_id: str
    element_id: str
    fire_at: datetime


@dataclass(frozen=True)
class WaitingCatch:
    """A message or signal catch event (or receive task) that is waiting."""

    task_id: str
    element_id: str
    kind: str  # "message" | "signal"
    name: str


@dataclass(frozen=True)
class ThrownEvent:
    kind: str  # "message" | "signal"
    name: str
    payload: object


def _definitions(event_definition) -> list:
    if isinstance(event_definition, MultipleEventDefinition):
        return list(event_definition.event_definitions)
    return [event_definition]


def _fire_time(task, definition) -> datetime | None:
    value = task.internal_data.get("event_value")
    if value is None:
        return None
    if isinstance(definition, CycleTimerEventDefinition):
        if not isinstance(value, dict) or value.get("cycles") == 0:
            return None
        return datetime.fromisoformat(value["next"])
    if isinstance(value, str) and value.upper().startswith("P"):
        return None
    return TimerEventDefinition.get_datetime(str(value))


def waiting_timers(workflow) -> dict[str, WaitingTimer]:
    result = {}
    for task in list(workflow.event_manager.tasks.values()):
        if not task.has_state(TaskState.WAITING):
            continue
        for definition in _definitions(task.task_spec.event_definition):
            if isinstance(definition, TimerEventDefinition):
                fire_at = _fire_time(task, definition)
                if fire_at is not None:
                    result[str(task.id)] = WaitingTimer(
                        str(task.id), task.task_spec.bpmn_id or "", fire_at
                    )
    return result


def waiting_catches(workflow) -> dict[tuple[str, str], WaitingCatch]:
    result = {}
    for task in list(workflow.event_manager.tasks.values()):
        if not task.has_state(TaskState.WAITING):
            continue
        for definition in _definitions(task.task_spec.event_definition):
            kind = _kind(definition)
            if kind:
                catch = WaitingCatch(
                    str(task.id), task.task_spec.bpmn_id or "", kind, definition.name
                )
                result[(catch.task_id, catch.name)] = catch
    return result


def _kind(definition) -> str:
    if isinstance(definition, BaseMessageEventDefinition):
        return "message"
    if isinstance(definition, SignalEventDefinition):
        return "signal"
    return ""


def thrown_events(workflow) -> list[ThrownEvent]:
    """Events thrown by this instance that nothing inside it caught (for other instances)."""
    thrown = []
    for event in workflow.get_events():
        kind = _kind(event.event_definition)
        if not kind:
            continue
        payload = event.payload
        if isinstance(payload, dict) and "result_var" in payload:
            payload = payload.get("payload")
        thrown.append(ThrownEvent(kind, event.event_definition.name, payload))
    return thrown
