"""Walking a long case's task tree without visiting its whole finished past every time.

SpiffWorkflow finds the tasks to run (READY, WAITING) by walking the task tree from its root,
through every finished task. A case returned for correction N times is a chain of N rounds of
finished tasks with the open ones at the bottom, so every engine step costs as much as the
case's whole history, and replaying it costs the square of its length.

A walk that looks only for unfinished tasks never yields a finished one; a finished task with a
single child hands the walk straight to that child. So a run of such tasks can be jumped over:
the walk is the same, minus the visits that could not yield anything. Each workflow keeps, per
task, where its run ends (path-compressed, so the next walk jumps the whole past at once).

The jumps stay exact because any change to a task inside a run — its state changing, a child
added or removed — invalidates every jump of that workflow (a generation number); that happens
rarely (a reset, a cancelled branch), not on the ordinary step at the frontier.
"""

from __future__ import annotations

from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskIterator, TaskState
from SpiffWorkflow.workflow import Workflow

# SpiffWorkflow walks the task tree with an iterator that stops at depth 1000 by default. A loop
# adds a few levels per round (a correction returned 333 times reaches it), and past that depth
# the engine no longer sees the newest tasks: the workflow looked completed and the case stopped
# silently. The iterator is not recursive, so a deeper limit costs nothing until it is used.
TASK_TREE_MAX_DEPTH = 1_000_000

_FINISHED = TaskState.FINISHED_MASK


def _in_run(task: Task) -> bool:
    """A task a walk for unfinished tasks passes straight through."""
    return bool(task._state & _FINISHED) and len(task._children) == 1


def _invalidate(workflow) -> None:
    workflow.__dict__["_fz_generation"] = workflow.__dict__.get("_fz_generation", 0) + 1


def _passes(task: Task) -> bool:
    """``_in_run``, for a task the walk does not enter a subprocess at (it enters even a
    finished one's)."""
    return _in_run(task) and task.id not in task.workflow.top_workflow.subprocesses


def _run_end(task: Task) -> Task:
    """The first task below ``task`` (or ``task`` itself) that is not in a run."""
    workflow = task.workflow
    generation = workflow.__dict__.get("_fz_generation", 0)
    jumps = workflow.__dict__.get("_fz_jumps")
    if jumps is None or jumps[0] != generation:
        jumps = (generation, {})
        workflow.__dict__["_fz_jumps"] = jumps
    ends = jumps[1]
    tasks = workflow.tasks
    current = task
    while True:
        landing = ends.get(current.id)
        if landing is not None and landing is not current:
            current = landing
        if not _passes(current):
            break
        current = tasks[current._children[0]]
    if current is not task:
        ends[task.id] = current
    return current


def _jumping(original):
    def _next(self):
        task_list = self.task_list
        if task_list and self._fz_jumps:
            head = task_list[0]
            if _passes(head):
                task_list[0] = _run_end(head)
        return original(self)

    return _next


def _jumps_allowed(iterator) -> bool:
    """Jumping skips only what the walk would not yield and would not stop at."""
    return (
        iterator.depth_first
        and iterator.end_at_spec is None
        and not iterator.task_filter.state & _FINISHED
        # Depth is counted only to stop at max_depth, which a case never reaches.
        and iterator.max_depth >= TASK_TREE_MAX_DEPTH
    )


def _init_with_jumps(original):
    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self._fz_jumps = _jumps_allowed(self)

    return __init__


def _watch_state(original):
    def _set_state(self, value):
        if value != self._state and _in_run(self):
            _invalidate(self.workflow)
        original(self, value)

    return _set_state


def _watch_child_added(original):
    def _child_added_notify(self, child):
        if _in_run(self):
            _invalidate(self.workflow)
        original(self, child)

    return _child_added_notify


def _watch_removal(original):
    def _remove_task(self, task_id):
        task = self.tasks.get(task_id)
        parent = task.parent if task is not None else None
        if parent is not None and _in_run(parent):
            _invalidate(self)
        original(self, task_id)

    return _remove_task


def _children_setter(self, tasks):
    _invalidate(self.workflow)
    self._children = [child.id for child in tasks]


def install() -> None:
    if getattr(TaskIterator, "_fz_installed", False):
        return
    for cls in (TaskIterator, BpmnTaskIterator):
        cls.__init__ = _init_with_jumps(cls.__init__)
        cls._next = _jumping(cls._next)
    Task._set_state = _watch_state(Task._set_state)
    Task._child_added_notify = _watch_child_added(Task._child_added_notify)
    Task.children = Task.children.setter(_children_setter)
    Workflow._remove_task = _watch_removal(Workflow._remove_task)
    TaskIterator._fz_installed = True


def invalidate_jumps(workflow) -> None:
    """Forget every jump of ``workflow`` and its subprocesses (after changing the tree by hand,
    as a migration does)."""
    _invalidate(workflow)
    for sub in getattr(workflow, "subprocesses", {}).values():
        _invalidate(sub)
