"""Running an instance: start, load, complete a user task, save. The host's one door to the engine.

Everything here is in memory and free of Django; services/ wrap it in transactions.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import time
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
from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.serializer.event_definition import MessageEventDefinitionConverter
from SpiffWorkflow.camunda.specs.multiinstance_task import (
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
)
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskIterator, TaskState

from . import case_size, iteration, sandbox
from .events import FuzhuMessageEventDefinition, engine_clock
from .events import _definitions as _event_definitions
from .events import _kind as _event_kind
from .iteration import TASK_TREE_MAX_DEPTH
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
from .tracking import (  # noqa: F401 - re-exported for the host
    StateTracker,
    element_states,
    state_digest,
    state_summary,
    value_fingerprint,
    workflow_data,
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


def _deepen_task_iteration(*classes) -> None:
    for cls in classes:
        code = cls.__init__.__code__
        names = code.co_varnames[: code.co_argcount]
        defaults = list(cls.__init__.__defaults__)
        defaults[names.index("max_depth") - (len(names) - len(defaults))] = TASK_TREE_MAX_DEPTH
        cls.__init__.__defaults__ = tuple(defaults)


_deepen_task_iteration(TaskIterator, BpmnTaskIterator)
iteration.install()  # after deepening: it wraps the iterators' __init__


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


# --- Synchronous handlers' results: inputs of the step --------------------------------------
# A synchronous service task asks a host handler (which reads and writes the host's tables) for
# its result. That result is an input of the step like a person's form data: the step records
# it, and a replay takes it from the record instead of calling the handler again (which would
# answer differently now - the medication cycle's "open the year" refuses a second opening -
# and would write to the host's tables from a read).


class HandlerResultMissing(Exception):
    """A replay reached a synchronous handler whose result the history does not hold."""

    def __init__(self, message: str, *, element: str = ""):
        super().__init__(message)
        self.element = element


class HandlerCalls:
    """The synchronous handler results of one step, by task id: made (live) or given (replay)."""

    def __init__(self, recorded: dict | None = None):
        self.recorded = recorded
        self.results: dict[str, dict | None] = {}

    def result(self, task, topic: str, run: Callable[[], dict | None]) -> dict | None:
        key = str(task.id)
        if self.recorded is None:
            result = run()
        elif key in self.recorded:
            result = self.recorded[key]
        else:
            raise HandlerResultMissing(
                f"the history holds no result of handler '{topic}' for task {key}",
                element=task.task_spec.bpmn_id or "",
            )
        self.results[key] = result
        return result


_handler_calls: contextvars.ContextVar[HandlerCalls | None] = contextvars.ContextVar(
    "fuzhu_handler_calls", default=None
)


@contextlib.contextmanager
def handler_calls(recorded: dict | None = None) -> Iterator[HandlerCalls]:
    """Collect (live) or supply (replay, ``recorded``) the handler results of one step."""
    calls = HandlerCalls(recorded)
    token = _handler_calls.set(calls)
    try:
        yield calls
    finally:
        _handler_calls.reset(token)


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


CamundaMultiInstance = (ParallelMultiInstanceTask, SequentialMultiInstanceTask)


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
            calls = _handler_calls.get()
            if calls is None:  # outside a step (a test driving the engine by hand)
                return runner(topic, dict(task.data))
            return calls.result(task, topic, lambda: runner(topic, dict(task.data)))

        engine.run_handler = run_handler
        return engine

    def start(
        self,
        *,
        variables: dict,
        ids: IdSequence,
        now: datetime,
        handler_results: dict | None = None,
    ) -> tuple[BpmnWorkflow, StepResult]:
        """``handler_results``: in a replay, the synchronous handlers' results recorded by the
        step (see HandlerCalls); None runs the handlers."""
        with task_ids(ids), engine_clock(now), handler_calls(handler_results) as calls:
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
            if handler_results is None:  # a replay re-runs what was measured when it was saved
                _check_case_size(workflow)
            step = _diff(EMPTY, snapshot(workflow), workflow)
            step.handler_results = calls.results
            return workflow, step

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
        self,
        workflow,
        ids: IdSequence,
        now: datetime,
        action,
        element: str,
        done=None,
        handler_results: dict | None = None,
    ) -> StepResult:
        """Run ``action`` and the engine; ``done`` is the task the action itself finished (it
        left by completion, not cancellation, so it is not reported as removed).

        In a replay (``handler_results`` given) nothing is mirrored into rows, so the step
        result is left empty: only which tasks wait is looked at, not what they hold."""
        replaying = handler_results is not None
        before = _waiting_ids(workflow) if replaying else snapshot(workflow)
        started = time.time()
        with task_ids(ids), engine_clock(now), handler_calls(handler_results) as calls:
            self._guard(lambda: action(before), element)
            self._guard(workflow.do_engine_steps, "")
            if replaying:
                # What a replay re-runs was measured when it was saved: measuring the whole
                # state again at every event would make a long case's replay quadratic.
                return _diff(EMPTY, EMPTY, workflow)
            _check_case_size(workflow, since=started)
            if done is not None:
                before.user_tasks.pop(done, None)
                before.service_tasks.pop(done, None)
            step = _diff(before, snapshot(workflow), workflow)
            step.handler_results = calls.results
            return step

    def complete_user_task(
        self,
        workflow: BpmnWorkflow,
        *,
        task_id: uuid.UUID,
        data: dict,
        ids: IdSequence,
        now: datetime,
        handler_results: dict | None = None,
    ) -> StepResult:
        def run(before: Snapshot) -> None:
            if task_id not in before.user_tasks:
                raise TaskNotReady(f"task {task_id} is not waiting for a person")
            task = workflow.get_task_from_id(task_id)
            task.data.update(data)
            task.run()

        return self._act(
            workflow,
            ids,
            now,
            run,
            self._element_of(workflow, task_id),
            done=task_id,
            handler_results=handler_results,
        )

    def complete_service_task(
        self,
        workflow: BpmnWorkflow,
        *,
        task_id: uuid.UUID,
        result: dict | None,
        ids: IdSequence,
        now: datetime,
        handler_results: dict | None = None,
    ) -> StepResult:
        def run(before: Snapshot) -> None:
            if task_id not in before.service_tasks:
                raise TaskNotReady(f"service task {task_id} is not waiting for its job")
            task = workflow.get_task_from_id(task_id)
            task.internal_data["job_result"] = result or {}
            task.run()

        return self._act(
            workflow,
            ids,
            now,
            run,
            self._element_of(workflow, task_id),
            done=task_id,
            handler_results=handler_results,
        )

    def fire_timers(
        self,
        workflow: BpmnWorkflow,
        *,
        ids: IdSequence,
        now: datetime,
        handler_results: dict | None = None,
    ) -> StepResult:
        return self._act(
            workflow,
            ids,
            now,
            lambda before: workflow.refresh_timers(),
            "",
            handler_results=handler_results,
        )

    def deliver(
        self,
        workflow: BpmnWorkflow,
        *,
        kind: str,
        name: str,
        payload,
        ids: IdSequence,
        now: datetime,
        handler_results: dict | None = None,
    ) -> StepResult:
        """Deliver a message or signal the instance waits for; NotWaiting if it does not."""

        def run(before: Snapshot) -> None:
            event = _external_event(workflow, kind, name, payload)
            if event is None or workflow.event_manager.catch(event, internal=False) == 0:
                raise NotWaiting(f"the instance does not wait for {kind} '{name}'")

        return self._act(workflow, ids, now, run, "", handler_results=handler_results)

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
        except (TaskNotReady, NotWaiting, HandlerResultMissing):
            raise
        except SpiffWorkflowException as exc:
            cause = exc.__cause__ or exc.__context__
            if isinstance(cause, HandlerResultMissing):
                raise cause from None  # the replay's record is short, not the diagram wrong
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


def _waiting_ids(workflow: BpmnWorkflow) -> Snapshot:
    """A snapshot that knows only which user and service tasks wait (for a replay's checks)."""
    users, services = {}, {}
    for task in workflow.get_tasks(state=TaskState.READY, manual=True):
        (services if isinstance(task.task_spec, HandlerServiceTask) else users)[task.id] = None
    return Snapshot(users, services, {}, {})


def configure(*, max_data_bytes: int, max_state_bytes: int, max_depth: int) -> None:
    """The size limits of a case's data (WORKFLOWS["MAX_CASE_DATA_BYTES"] ...)."""
    case_size.configure(
        max_data_bytes=max_data_bytes, max_state_bytes=max_state_bytes, max_depth=max_depth
    )


def _check_case_size(workflow: BpmnWorkflow, since: float | None = None) -> None:
    # Before anything is snapshotted, digested or saved: an oversized case is never serialized.
    # ``since``: SpiffWorkflow stamps a task's state changes with time.time().
    try:
        case_size.check_case_size(workflow, since=since)
    except case_size.CaseTooLarge as exc:
        raise EngineFailure(exc.message, element=exc.element) from exc


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
            _settle_camunda_collection(spec)


def _settle_camunda_collection(spec) -> None:
    """A Camunda multi-instance over a collection (``camunda:collection``) reads its items from
    that collection and writes each child's item back into it, in place. SpiffWorkflow sets the
    reading half on the *spec* only when the task starts, so a process that loaded the case
    after the start (a web worker, after a restart) merged each finished child by appending to
    the collection: fifteen townships became thirty, and the state depended on which process
    had run the start (a replay, in one process, disagreed). Set it once, at parse time, as
    SpiffWorkflow itself sets it at the start."""
    if not isinstance(spec, CamundaMultiInstance) or spec.cardinality is not None:
        return
    if spec.data_output is not None and spec.data_input is None:
        spec.data_input = TaskDataReference(spec.data_output.bpmn_id)
    if spec.output_item is not None and spec.input_item is None:
        spec.input_item = TaskDataReference(spec.output_item.bpmn_id)


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


def legacy_state_digest(workflow: BpmnWorkflow) -> str:
    """The digest events recorded before digests could be updated per step (no version
    prefix): one SHA-256 over every task, sorted by id. A replay still checks old events with it."""
    rows = [
        (str(t.id), t.task_spec.name, t.state, t.data)
        for t in sorted(workflow.get_tasks(), key=lambda t: str(t.id))
    ]
    blob = json.dumps(rows, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def state_record(workflow: BpmnWorkflow) -> dict:
    """What every engine event records of the state it produced: the digest a replay must
    reproduce, and a summary that lets a replay that does not say where it parts."""
    return {"state_digest": state_digest(workflow), "state_summary": state_summary(workflow)}


def task_states(workflow: BpmnWorkflow) -> list[dict]:
    """Every task's element and state, for comparing a replay with the stored state."""
    return [
        {
            "id": str(t.id),
            "element": t.task_spec.name,
            "state": TaskState.get_name(t.state),
            "data": t.data,
        }
        for t in workflow.get_tasks()  # in the order a walk of the tree meets them
    ]
