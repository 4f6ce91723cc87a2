"""What an instance waits for at one moment, and what one engine step changed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from .events import (
    ThrownEvent,
    WaitingCatch,
    WaitingTimer,
    thrown_events,
    waiting_catches,
    waiting_timers,
)
from .specs import AssignedUserTask, Assignment, HandlerServiceTask


@dataclass(frozen=True)
class ReadyUserTask:
    task_id: uuid.UUID
    element_id: str
    name: str
    lane: str
    assignment: Assignment
    data: dict
    process_id: str


@dataclass(frozen=True)
class ReadyServiceTask:
    """An asynchronous service task waiting for its job."""

    task_id: uuid.UUID
    element_id: str
    topic: str
    data: dict


@dataclass
class Snapshot:
    """What an instance waits for at one moment."""

    user_tasks: dict[uuid.UUID, ReadyUserTask]
    service_tasks: dict[uuid.UUID, ReadyServiceTask]
    timers: dict[str, WaitingTimer]
    catches: dict[tuple[str, str], WaitingCatch]


EMPTY = Snapshot({}, {}, {}, {})


def snapshot(workflow: BpmnWorkflow) -> Snapshot:
    users, services = {}, {}
    for task in workflow.get_tasks(state=TaskState.READY, manual=True):
        if isinstance(task.task_spec, HandlerServiceTask):
            services[task.id] = ReadyServiceTask(
                task.id, task.task_spec.bpmn_id, task.task_spec.topic, task.data
            )
        else:
            users[task.id] = _ready_user_task(task)
    return Snapshot(users, services, waiting_timers(workflow), waiting_catches(workflow))


@dataclass
class StepResult:
    """What changed in one engine step: the host mirrors it into its tables."""

    created: list[ReadyUserTask]
    removed: list[uuid.UUID]
    jobs_created: list[ReadyServiceTask]
    jobs_removed: list[uuid.UUID]
    after: Snapshot
    timers_changed: bool
    catches_changed: bool
    thrown: list[ThrownEvent]
    completed: bool
    # The synchronous handlers' results of the step, by task id: inputs the event records.
    handler_results: dict = field(default_factory=dict)

    @property
    def ready_count(self) -> int:
        return len(self.after.user_tasks)


def _diff(before: Snapshot, after: Snapshot, workflow: BpmnWorkflow) -> StepResult:
    return StepResult(
        created=[t for i, t in after.user_tasks.items() if i not in before.user_tasks],
        removed=sorted(i for i in before.user_tasks if i not in after.user_tasks),
        jobs_created=[t for i, t in after.service_tasks.items() if i not in before.service_tasks],
        jobs_removed=sorted(i for i in before.service_tasks if i not in after.service_tasks),
        after=after,
        timers_changed=before.timers != after.timers,
        catches_changed=set(before.catches) != set(after.catches),
        thrown=thrown_events(workflow),
        completed=workflow.completed,
    )


def _ready_user_task(task) -> ReadyUserTask:
    spec = task.task_spec
    assignment = spec.assignment if isinstance(spec, AssignedUserTask) else Assignment()
    return ReadyUserTask(
        task_id=task.id,
        element_id=spec.bpmn_id or spec.name,
        name=spec.bpmn_name or spec.bpmn_id or spec.name,
        lane=spec.lane or "",
        assignment=assignment,
        data=task.data,
        process_id=task.workflow.spec.name,
    )


def ready_user_tasks(workflow: BpmnWorkflow) -> list[ReadyUserTask]:
    """The user tasks waiting for a person, in tree order."""
    return list(snapshot(workflow).user_tasks.values())
