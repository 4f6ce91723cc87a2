"""A case's data has a size limit, checked after each engine step and before anything is saved.

A script can store a value that is small in memory and huge as text (``[[0] * 10_000] * 3_000``
is 60 MB of JSON), and every task keeps its own copy of the variables. The state is measured
here, task by task, with a walk that stops as soon as a limit is passed (sizes.json_bytes), so
an oversized case costs no more to refuse than the limit itself; it is never serialized.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from .i18n import _
from .sizes import TooDeep, json_bytes


@dataclass
class CaseLimits:
    """WORKFLOWS["MAX_CASE_DATA_BYTES"] and ["MAX_CASE_STATE_BYTES"], set by the host."""

    max_data_bytes: int = 2 * 1024 * 1024
    max_state_bytes: int = 64 * 1024 * 1024
    # Lists and dicts within each other, as deep as json.dumps and deepcopy can go safely.
    max_depth: int = 100


LIMITS = CaseLimits()


def configure(*, max_data_bytes: int, max_state_bytes: int, max_depth: int) -> None:
    LIMITS.max_data_bytes = int(max_data_bytes)
    LIMITS.max_state_bytes = int(max_state_bytes)
    LIMITS.max_depth = int(max_depth)


class CaseTooLarge(Exception):
    """The case's data is over its limit; ``element`` is the step whose data is too large."""

    def __init__(self, message: str, element: str):
        super().__init__(message)
        self.message = message
        self.element = element


def check_case_size(workflow, *, since: float | None = None) -> None:
    """Raise CaseTooLarge if a task's data or the whole saved state is over its limit.

    The state is measured as the serializer writes it: each task holds only what differs from
    its parent's data. A task's variables are measured in full only where they differ from its
    parent's (a copy is as large as what it copies, and the parent came first) and where the
    task changed at or after ``since`` (the step about to be saved; every task when None): a
    task that did not run kept the data it had when it was last saved.
    """
    total = json_bytes(workflow.data, LIMITS.max_state_bytes)
    for task in _all_tasks(workflow):
        try:
            total += _task_bytes(task, since, LIMITS.max_state_bytes - total)
        except TooDeep:
            _refuse(
                _(
                    "the data of step '%(step)s' is nested more than %(limit)s levels deep; "
                    "nothing was saved"
                ),
                task.task_spec,
                LIMITS.max_depth,
            )
        if total > LIMITS.max_state_bytes:
            _refuse(
                _(
                    "the case's data is larger than the limit of %(limit)s bytes at step "
                    "'%(step)s'; nothing was saved"
                ),
                task.task_spec,
                LIMITS.max_state_bytes,
            )


def _task_bytes(task, since: float | None, budget: int) -> int:
    """What ``task`` adds to the saved state, after checking its variables if it ran."""
    limit, depth = LIMITS.max_data_bytes, LIMITS.max_depth
    changed, removed = _delta(task)
    ran = since is None or task.last_state_change >= since
    if ran and (changed or task.internal_data):
        size = json_bytes(task.data, limit, depth) + json_bytes(task.internal_data, limit, depth)
        if size > limit:
            _refuse(
                _(
                    "the data of step '%(step)s' is larger than the limit of %(limit)s "
                    "bytes; nothing was saved (store large values as documents, not as "
                    "variables)"
                ),
                task.task_spec,
                limit,
            )
    saved = json_bytes(task.internal_data, budget, depth) + json_bytes(changed, budget, depth)
    return saved + json_bytes(removed, budget)


def _all_tasks(workflow):
    """Every task the serializer writes, parents before children (the order they were made);
    the tables themselves, not get_tasks(), whose filters cost more than the measuring."""
    yield from workflow.tasks.values()
    for subprocess in workflow.subprocesses.values():
        yield from subprocess.tasks.values()


def _delta(task) -> tuple[dict, list]:
    """What the serializer writes for ``task``'s data: all of it for the root, else the keys
    that differ from its parent's, and those it removed."""
    if task.parent is None:
        return task.data, []
    parent, data = task.parent.data, task.data
    changed = {k: v for k, v in data.items() if k not in parent or parent[k] != v}
    return changed, [k for k in parent if k not in data]


def _refuse(message: str, spec, limit: int) -> NoReturn:
    step = {"step": _step_name(spec), "limit": f"{limit:,}"}
    raise CaseTooLarge(message % step, _element(spec))


def _element(spec) -> str:
    return getattr(spec, "bpmn_id", None) or spec.name


def _step_name(spec) -> str:
    name = getattr(spec, "bpmn_name", None)
    element = _element(spec)
    return f"{name} ({element})" if name and name != element else element
