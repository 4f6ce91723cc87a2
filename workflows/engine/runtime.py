"""Running an instance: start, load, complete a user task, save. The host's one door to the engine.

Everything here is in memory and free of Django; services/ wrap it in transactions.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import traceback
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime

import SpiffWorkflow.task as spiff_task_module
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.serializer.event_definition import MessageEventDefinitionConverter
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskIterator, TaskState

from . import sandbox
from .events import FuzhuMessageEventDefinition, engine_clock
from .events import _definitions as _event_definitions
from .events import _kind as _event_kind
from .parser import ParsedDiagram
from .script_engine import SandboxScriptEngine
from .snapshot import (  # noqa: F401 - re-exported for the host
    EMPTY,
    ReadyServiceTask,
    ReadyUserTask,
    Snapshot,
    StepResult,
    _diff,
    ready_user_tasks,
    snapshot,
)
from .specs import (
    AssignedUserTask,
    AssignedUserTaskConverter,
    HandlerServiceTask,
    HandlerServiceTaskConverter,
)

# --- Deterministic task ids -------------------------------------------------------------------
# SpiffWorkflow names every task with uuid4(). Replaying an instance from its audit events must
# reproduce the same task ids (events name tasks by id), so while the host drives an instance,
# ids come from a per-instance sequence: uuid5(instance namespace, counter).

_id_sequence: contextvars.ContextVar[IdSequence | None] = contextvars.ContextVar(
    "fuzhu_task_ids", default=None
)
_original_uuid4 = spiff_task_module.uuid4


def _task_uuid() -> uuid.UUID:
    sequence = _id_sequence.get()
    return sequence.next() if sequence is not None else _original_uuid4()


spiff_task_module.uuid4 = _task_uuid


# SpiffWorkflow walks the task tree with an iterator that stops at depth 1000 by default. A loop
# adds a few levels per round (a correction returned 333 times reaches it), and past that depth
# the engine no longer sees the newest tasks: the workflow looked completed and the case stopped
# silently. The iterator is not recursive, so a deeper limit costs nothing until it is used.
TASK_TREE_MAX_DEPTH = 1_000_000


def _deepen_task_iteration(*classes) -> None:
    for cls in classes:
        code = cls.__init__.__code__
        names = code.co_varnames[: code.co_argcount]
        defaults = list(cls.__init__.__defaults__)
        defaults[names.index("max_depth") - (len(names) - len(defaults))] = TASK_TREE_MAX_DEPTH
        cls.__init__.__defaults__ = tuple(defaults)


_deepen_task_iteration(TaskIterator, BpmnTaskIterator)


class IdSequence:
    def __init__(self, namespace: uuid.UUID, counter: int = 0):
        self.namespace = namespace
        self.counter = counter

    def next(self) -> uuid.UUID:
        self.counter += 1
        return uuid.uuid5(self.namespace, str(self.counter))


@contextlib.contextmanager
def task_ids(sequence: IdSequence) -> Iterator[IdSequence]:
    token = _id_sequence.set(sequence)
    try:
        yield sequence
    finally:
        _id_sequence.reset(token)


# --- Errors -----------------------------------------------------------------------------------


class EngineFailure(Exception):
    """Diagram code or the engine failed at run time; becomes an incident."""

    def __init__(
        self, message: str, *, element: str = "", line: int | None = None, detail: str = ""
    ):
        super().__init__(message)
        self.message = message
        self.element = element
        self.line = line
        self.detail = detail


class TaskNotReady(Exception):
    """The user task is not (or no longer) waiting for a person."""


# --- Serialization ----------------------------------------------------------------------------


class _StateConverter(BpmnWorkflowConverter):
    """Serializes an instance without its specs: they belong to the definition, not the instance.

    Keeping specs out of the state makes it a fraction of the size and saves rebuilding them on
    every load; the definition's parsed specs are cached per process (see DefinitionRuntime).
    """

    def to_dict(self, workflow):
        # The base WorkflowConverter, not BpmnWorkflowConverter: converting every spec only
        # to drop it again costs as much as the rest of the dump.
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], uuid.UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(uuid.UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _build_serializer() -> BpmnWorkflowSerializer:
    config = dict(CAMUNDA_CONFIG)
    config[AssignedUserTask] = AssignedUserTaskConverter
    config[HandlerServiceTask] = HandlerServiceTaskConverter
    config[BpmnWorkflow] = _StateConverter
    config[FuzhuMessageEventDefinition] = MessageEventDefinitionConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


SERIALIZER = _build_serializer()


# --- Views of the engine state the host needs -------------------------------------------------


class NotWaiting(Exception):
    """The instance does not wait for this message or signal."""


BpmnWorkflowType = BpmnWorkflow
HandlerRunner = Callable[[str, dict], dict | None]


class DefinitionRuntime:
    """Runs instances of one deployed definition (specs parsed once, reused).

    Every action takes the moment it happens (``now``) and the instance's task-id sequence, so
    the same inputs at the same moments always produce the same state (see replay)."""

    def __init__(self, parsed: ParsedDiagram, *, handler_runner: HandlerRunner, time_limit: float):
        self.parsed = parsed
        self.handler_runner = handler_runner
        self.time_limit = time_limit
        _connect_loop_merges(parsed)

    def _script_engine(self) -> SandboxScriptEngine:
        engine = SandboxScriptEngine(self.time_limit)
        runner = self.handler_runner

        def run_handler(task, topic):
            return runner(topic, dict(task.data))

        engine.run_handler = run_handler
        return engine

    def start(
        self, *, variables: dict, ids: IdSequence, now: datetime
    ) -> tuple[BpmnWorkflow, StepResult]:
        with task_ids(ids), engine_clock(now):
            built: list[BpmnWorkflow] = []
            # Building the task tree predicts every path; a loop the deploy checks missed must
            # fail this start, not the server.
            self._guard(
                lambda: built.append(
                    BpmnWorkflow(
                        self.parsed.spec,
                        self.parsed.subprocess_specs,
                        script_engine=self._script_engine(),
                    )
                ),
                "",
            )
            workflow = built[0]
            # The root and start tasks exist already; give their data to the whole tree.
            for task in workflow.get_tasks():
                task.data.update(variables)
            self._guard(workflow.do_engine_steps, "")
            return workflow, _diff(EMPTY, snapshot(workflow), workflow)

    def load(self, state: str) -> BpmnWorkflow:
        dct = json.loads(state)
        dct.pop(BpmnWorkflowSerializer.VERSION_KEY, None)
        workflow = SERIALIZER.from_dict(
            dct, spec=self.parsed.spec, subprocess_specs=self.parsed.subprocess_specs
        )
        workflow.script_engine = self._script_engine()
        return workflow

    @staticmethod
    def dump(workflow: BpmnWorkflow) -> str:
        return SERIALIZER.serialize_json(workflow)

    def _act(
        self, workflow, ids: IdSequence, now: datetime, action, element: str, done=None
    ) -> StepResult:
        """Run ``action`` and the engine; ``done`` is the task the action itself finished (it
        left by completion, not cancellation, so it is not reported as removed)."""
        before = snapshot(workflow)
        with task_ids(ids), engine_clock(now):
            self._guard(lambda: action(before), element)
            self._guard(workflow.do_engine_steps, "")
            if done is not None:
                before.user_tasks.pop(done, None)
                before.service_tasks.pop(done, None)
            return _diff(before, snapshot(workflow), workflow)

    def complete_user_task(
        self,
        workflow: BpmnWorkflow,
        *,
        task_id: uuid.UUID,
        data: dict,
        ids: IdSequence,
        now: datetime,
    ) -> StepResult:
        def run(before: Snapshot) -> None:
            if task_id not in before.user_tasks:
                raise TaskNotReady(f"task {task_id} is not waiting for a person")
            task = workflow.get_task_from_id(task_id)
            task.data.update(data)
            task.run()

        return self._act(workflow, ids, now, run, self._element_of(workflow, task_id), done=task_id)

    def complete_service_task(
        self,
        workflow: BpmnWorkflow,
        *,
        task_id: uuid.UUID,
        result: dict | None,
        ids: IdSequence,
        now: datetime,
    ) -> StepResult:
        def run(before: Snapshot) -> None:
            if task_id not in before.service_tasks:
                raise TaskNotReady(f"service task {task_id} is not waiting for its job")
            task = workflow.get_task_from_id(task_id)
            task.internal_data["job_result"] = result or {}
            task.run()

        return self._act(workflow, ids, now, run, self._element_of(workflow, task_id), done=task_id)

    def fire_timers(self, workflow: BpmnWorkflow, *, ids: IdSequence, now: datetime) -> StepResult:
        return self._act(workflow, ids, now, lambda before: workflow.refresh_timers(), "")

    def deliver(
        self,
        workflow: BpmnWorkflow,
        *,
        kind: str,
        name: str,
        payload,
        ids: IdSequence,
        now: datetime,
    ) -> StepResult:
        """Deliver a message or signal the instance waits for; NotWaiting if it does not."""

        def run(before: Snapshot) -> None:
            event = _external_event(workflow, kind, name, payload)
            if event is None or workflow.event_manager.catch(event, internal=False) == 0:
                raise NotWaiting(f"the instance does not wait for {kind} '{name}'")

        return self._act(workflow, ids, now, run, "")

    @staticmethod
    def _element_of(workflow: BpmnWorkflow, task_id: uuid.UUID) -> str:
        task = workflow.tasks.get(task_id)
        if task is None:
            for sub in workflow.subprocesses.values():
                task = sub.tasks.get(task_id) or task
        return (task.task_spec.bpmn_id or task.task_spec.name) if task else ""

    @staticmethod
    def _guard(action: Callable[[], object], element: str) -> None:
        try:
            action()
        except (TaskNotReady, NotWaiting):
            raise
        except SpiffWorkflowException as exc:
            raise _engine_failure(exc, element) from exc
        except (
            sandbox.SandboxRuntimeError,
            sandbox.SandboxTimeout,
            sandbox.SandboxViolation,
        ) as exc:
            raise EngineFailure(str(exc), element=element, detail=traceback.format_exc()) from exc
        except Exception as exc:  # noqa: BLE001 - a failing handler becomes an incident, not a 500
            message = f"{type(exc).__name__}: {exc}"
            raise EngineFailure(message, element=element, detail=traceback.format_exc()) from exc


def _connect_loop_merges(parsed: ParsedDiagram) -> None:
    """A loop or multi-instance task collects each finished child through a handler that
    SpiffWorkflow connects to the child's spec only when it creates children, in that process.
    An instance loaded elsewhere (a web worker after the job runner made the children, or the
    same server after a restart) would never collect them and never finish: connect every
    handler when the definition is parsed."""
    for process_spec in [parsed.spec, *parsed.subprocess_specs.values()]:
        if process_spec is None:
            continue
        for spec in process_spec.task_specs.values():
            if not isinstance(spec, LoopTask):
                continue
            child = process_spec.task_specs.get(spec.task_spec)
            if child is not None and not child.completed_event.is_connected(spec.merge_child):
                child.completed_event.connect(spec.merge_child)


def _external_event(workflow: BpmnWorkflow, kind: str, name: str, payload):
    """An event of the same class the waiting task expects (SpiffWorkflow compares classes)."""
    for task in workflow.event_manager.tasks.values():
        for definition in _event_definitions(task.task_spec.event_definition):
            if definition.name != name or _event_kind(definition) != kind:
                continue
            if kind == "signal":
                return BpmnEvent(type(definition)(name), payload=payload)
            if hasattr(definition, "result_var"):
                event_definition = type(definition)(name, [], None, None)
                return BpmnEvent(event_definition, payload={"payload": payload, "result_var": None})
            return BpmnEvent(
                type(definition)(name), payload=payload if isinstance(payload, dict) else {}
            )
    return None


def _engine_failure(exc: SpiffWorkflowException, fallback_element: str) -> EngineFailure:
    task = getattr(exc, "task", None)
    element = fallback_element
    if task is not None:
        element = task.task_spec.bpmn_id or task.task_spec.name
    cause = exc.__cause__ or exc.__context__
    message = str(exc)
    if isinstance(cause, sandbox.SandboxRuntimeError | sandbox.SandboxViolation):
        message = cause.message
    elif isinstance(cause, sandbox.SandboxTimeout):
        message = str(cause)
    return EngineFailure(
        message,
        element=element,
        line=getattr(exc, "line_number", None) or getattr(cause, "line", None),
        detail=traceback.format_exc(),
    )


def workflow_data(workflow: BpmnWorkflow) -> dict:
    """The instance's current variables: what the tokens carry right now.

    That is the data at the frontier of the run: active tasks, and finished tasks none of whose
    children has run yet (a branch waiting at a join)."""
    if workflow.completed:
        return dict(workflow.data) or dict(workflow.last_task.data if workflow.last_task else {})
    active, finished = [], []
    for task in workflow.get_tasks():
        if task.has_state(TaskState.READY | TaskState.WAITING | TaskState.STARTED):
            active.append(task)
        elif task.has_state(TaskState.COMPLETED) and not any(
            child.has_state(TaskState.FINISHED_MASK) for child in task.children
        ):
            finished.append(task)
    data: dict = {}
    # Active tasks first; then what finished tasks produced (a join may hold older data).
    for task in sorted(active, key=lambda t: t.last_state_change) + sorted(
        finished, key=lambda t: t.last_state_change
    ):
        data.update(task.data)
    return data


def state_digest(workflow: BpmnWorkflow) -> str:
    """A fingerprint of what replay must reproduce: every task's id, element, state and data."""
    rows = [
        (str(t.id), t.task_spec.name, t.state, t.data)
        for t in sorted(workflow.get_tasks(), key=lambda t: str(t.id))
    ]
    blob = json.dumps(rows, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def task_states(workflow: BpmnWorkflow) -> list[dict]:
    """Every task's element and state, for comparing a replay with the stored state."""
    return [
        {
            "id": str(t.id),
            "element": t.task_spec.name,
            "state": TaskState.get_name(t.state),
            "data": t.data,
        }
        for t in sorted(workflow.get_tasks(), key=lambda t: str(t.id))
    ]
