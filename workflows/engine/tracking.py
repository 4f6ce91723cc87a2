"""What a replay compares and shows after each event, kept up to date step by step.

The state digest covers every task (id, element, state, data); the auditor's frame shows each
element's state and the case's data. Computing them from the whole task tree after every event
makes a replay cost the square of the case's length. The tracker looks only at what an event can
have changed: the tasks that were unfinished before it and the tasks it created (task ids come
from the instance's sequence, so those are the ids issued since the last look). A finished task
keeps what it had when it finished.

Should a finished task ever change after all (a reset), the tracker would keep its old row and
the digest would differ from the one recorded: the replay reports a mismatch rather than
silently agreeing. tests/auditing/test_every_procedure_replays.py checks the tracker against the
full computation at every event of every demo procedure.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from .specs import HandlerServiceTask

DIGEST_VERSION = "2:"
_MODULUS = 1 << 512
_FINISHED = TaskState.FINISHED_MASK
_ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED

# An element shows the strongest state of its tasks (a loop's step is active again although an
# earlier round of it completed).
STATE_RANK = {"cancelled": 1, "completed": 2, "waiting": 3, "active": 4, "incident": 5}
ELEMENT_STATE = {
    TaskState.READY: "active",
    TaskState.STARTED: "active",
    TaskState.WAITING: "waiting",
    TaskState.COMPLETED: "completed",
    TaskState.CANCELLED: "cancelled",
    TaskState.ERROR: "incident",
}


def _row_hash(task) -> int:
    row = [str(task.id), task.task_spec.name, task.state, task.data]
    blob = json.dumps(row, sort_keys=True, default=str, ensure_ascii=False)
    return int.from_bytes(hashlib.sha512(blob.encode()).digest(), "big")


def _digest_of(total: int) -> str:
    return DIGEST_VERSION + hashlib.sha256(total.to_bytes(64, "big")).hexdigest()


def state_digest(workflow: BpmnWorkflow) -> str:
    """A fingerprint of what replay must reproduce: every task's id, element, state and data.

    The sum (mod 2^512) of one SHA-512 per task, so that a replay can update it for the tasks a
    step changed instead of hashing the whole case again (see StateTracker); the sum is hashed
    once more so that the digest does not expose it."""
    return _digest_of(sum(_row_hash(t) for t in workflow.get_tasks()) % _MODULUS)


def element_states(workflow: BpmnWorkflow) -> dict[str, str]:
    """Each diagram element's state: the strongest of its tasks'."""
    states: dict[str, str] = {}
    for task in workflow.get_tasks():
        _strongest(states, task.task_spec.bpmn_id, ELEMENT_STATE.get(task.state))
    return states


def _strongest(states: dict, element, state) -> None:
    if element and state is not None and STATE_RANK[state] > STATE_RANK.get(states.get(element), 0):
        states[element] = state


def _frontier_data(workflow: BpmnWorkflow, active, finished) -> dict:
    if workflow.completed:
        return dict(workflow.data) or dict(workflow.last_task.data if workflow.last_task else {})
    data: dict = {}
    # Active tasks first; then what finished tasks produced (a join may hold older data).
    for task in sorted(active, key=lambda t: t.last_state_change) + sorted(
        finished, key=lambda t: t.last_state_change
    ):
        data.update(task.data)
    return data


def workflow_data(workflow: BpmnWorkflow) -> dict:
    """The instance's current variables: what the tokens carry right now.

    That is the data at the frontier of the run: active tasks, and finished tasks none of whose
    children has run yet (a branch waiting at a join)."""
    active, finished = [], []
    for task in workflow.get_tasks():
        if task.has_state(_ACTIVE):
            active.append(task)
        elif task.has_state(TaskState.COMPLETED) and not any(
            child.has_state(_FINISHED) for child in task.children
        ):
            finished.append(task)
    return _frontier_data(workflow, active, finished)


def value_fingerprint(value) -> str:
    blob = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def state_summary(workflow: BpmnWorkflow) -> dict:
    """What an event records besides the digest, so that a replay that disagrees can say where:
    each element's state, and a fingerprint of each variable."""
    return {
        "elements": element_states(workflow),
        "data": {k: value_fingerprint(v) for k, v in sorted(workflow_data(workflow).items())},
    }


def _tree_position(task) -> list[int]:
    """Where a walk of the tree meets ``task``: the child indices from the root (a subprocess's
    tasks come before the children of the task that runs it)."""
    path = []
    while task is not None:
        parent = task.parent
        if parent is not None:
            path.append(parent._children.index(task.id))
            task = parent
            continue
        parent_task_id = getattr(task.workflow, "parent_task_id", None)
        if parent_task_id is None:
            break
        path.append(-1)
        task = task.workflow.top_workflow.get_task_from_id(parent_task_id)
    return path[::-1]


def _in_tree_order_where_tied(tasks: list) -> list:
    """``tasks`` ordered as a walk of the tree meets them, as far as their last state change
    leaves the order open (the data are merged in that order; a frozen clock ties them all).
    Only tied tasks are placed, so a long case pays for nothing in the ordinary case."""
    by_moment: dict[float, list] = {}
    for task in tasks:
        by_moment.setdefault(task.last_state_change, []).append(task)
    ordered = []
    for moment in sorted(by_moment):
        group = by_moment[moment]
        ordered += sorted(group, key=_tree_position) if len(group) > 1 else group
    return ordered


def _find(workflow: BpmnWorkflow, task_id: uuid.UUID):
    task = workflow.tasks.get(task_id)
    if task is None:
        for sub in workflow.subprocesses.values():
            task = sub.tasks.get(task_id)
            if task is not None:
                break
    return task


class StateTracker:
    """Digest, element states and data of one workflow in a replay, updated per event."""

    def __init__(self, workflow: BpmnWorkflow, namespace: uuid.UUID, counter: int):
        self.namespace = namespace
        self.rebuild(workflow, counter)

    def rebuild(self, workflow: BpmnWorkflow, counter: int) -> None:
        """Look at every task (at the start, and when a step changed the tree wholesale: a
        migration, a subprocess removed)."""
        self.rows: dict[uuid.UUID, tuple[int, str, str | None]] = {}
        self.total = 0
        self.open: set[uuid.UUID] = set()
        self.frontier: set[uuid.UUID] = set()
        self.counts: Counter = Counter()
        self.seen = counter
        self.subprocesses = set(workflow.subprocesses)
        for task in workflow.get_tasks():
            self._look(task)
        for task in workflow.get_tasks(state=TaskState.COMPLETED):
            if not any(child.has_state(_FINISHED) for child in task.children):
                self.frontier.add(task.id)

    def _forget(self, task_id: uuid.UUID) -> None:
        row = self.rows.pop(task_id, None)
        if row is not None:
            self.total = (self.total - row[0]) % _MODULUS
            if row[2] is not None:
                self.counts[(row[1], row[2])] -= 1
        self.open.discard(task_id)
        self.frontier.discard(task_id)

    def _look(self, task) -> None:
        self._forget(task.id)
        row = (_row_hash(task), task.task_spec.bpmn_id, ELEMENT_STATE.get(task.state))
        self.rows[task.id] = row
        self.total = (self.total + row[0]) % _MODULUS
        if row[1] and row[2] is not None:
            self.counts[(row[1], row[2])] += 1
        if not task.has_state(_FINISHED):
            self.open.add(task.id)

    def update(self, workflow: BpmnWorkflow, counter: int) -> None:
        """After an event: look again at what was unfinished and at the tasks it created."""
        if set(workflow.subprocesses) != self.subprocesses:
            self.rebuild(workflow, counter)
            return
        created = [uuid.uuid5(self.namespace, str(n)) for n in range(self.seen + 1, counter + 1)]
        self.seen = counter
        finished_now = []
        for task_id in [*self.open, *created]:
            task = _find(workflow, task_id)
            if task is None:
                self._forget(task_id)
                continue
            self._look(task)
            if task.has_state(_FINISHED):
                finished_now.append(task)
        for task in finished_now:
            # A completed task leaves the frontier when one of its children has run.
            parent = task.parent
            if parent is not None:
                self.frontier.discard(parent.id)
        for task in finished_now:
            if task.has_state(TaskState.COMPLETED) and not any(
                child.has_state(_FINISHED) for child in task.children
            ):
                self.frontier.add(task.id)

    def digest(self) -> str:
        return _digest_of(self.total)

    def element_states(self) -> dict[str, str]:
        states: dict[str, str] = {}
        for (element, state), count in self.counts.items():
            if count > 0:
                _strongest(states, element, state)
        return states

    def data(self, workflow: BpmnWorkflow) -> dict:
        active = workflow.get_tasks(state=_ACTIVE)  # the walk jumps over the finished past
        finished = [t for t in map(lambda i: _find(workflow, i), self.frontier) if t is not None]
        return _frontier_data(workflow, active, _in_tree_order_where_tied(finished))

    def record(self, workflow: BpmnWorkflow) -> dict:
        """What an event records of the state (as ``runtime.state_record``), computed from the
        tracked tasks: equal to the full computation, without its cost."""
        data = self.data(workflow)
        return {
            "state_digest": self.digest(),
            "state_summary": {
                "elements": self.element_states(),
                "data": {k: value_fingerprint(v) for k, v in sorted(data.items())},
            },
        }

    def ready_user_tasks(self, workflow: BpmnWorkflow) -> list[str]:
        """The open user tasks (the host mirrors exactly these as HumanTask rows)."""
        return [
            str(t.id)
            for t in workflow.get_tasks(state=TaskState.READY, manual=True)
            if not isinstance(t.task_spec, HandlerServiceTask)
        ]
