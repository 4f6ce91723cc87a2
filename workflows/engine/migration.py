"""Moving a running instance onto another version of its diagram (SpiffWorkflow's diff utilities).

SpiffWorkflow aligns the task specs of two versions (by BPMN id and position), moves every task
of the instance onto its aligned spec, and resets the active steps (ready and waiting tasks) so
that what follows them is predicted from the new version.

A move is refused when the instance would hold a task the new version has no step for: an
active step that was removed (where would the case be?), a finished step that was removed (the
history could no longer be read against the new version), or a running sub-process whose
diagram is gone. Each refusal names the element, so the process owner knows why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from .events import engine_clock
from .runtime import (
    SERIALIZER,
    DefinitionRuntime,
    IdSequence,
    StepResult,
    handler_calls,
    task_ids,
)
from .snapshot import _diff, snapshot

_ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


@dataclass(frozen=True)
class MigrationBlocker:
    element: str
    name: str
    reason: str
    code: str = ""  # at_removed_step, passed_removed_step, subprocess_removed (for translations)


@dataclass
class MigrationPlan:
    """Whether an instance can move, and what changes for it."""

    blockers: list[MigrationBlocker] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # elements of its tasks whose step changed

    @property
    def possible(self) -> bool:
        return not self.blockers


def _element(task) -> tuple[str, str]:
    spec = task.task_spec
    return spec.bpmn_id or spec.name, getattr(spec, "bpmn_name", None) or spec.bpmn_id or spec.name


def _diffs(workflow: BpmnWorkflow, target: DefinitionRuntime):
    return diff_workflow(
        SERIALIZER.registry, workflow, target.parsed.spec, target.parsed.subprocess_specs
    )


def migration_plan(workflow: BpmnWorkflow, target: DefinitionRuntime) -> MigrationPlan:
    """What moving ``workflow`` onto ``target`` would meet (the workflow is not changed)."""
    return _plan(workflow, target)[0]


def _plan(workflow: BpmnWorkflow, target: DefinitionRuntime):
    """(plan, top-level diff, sub-process diffs)."""
    top, subs = _diffs(workflow, target)
    plan = MigrationPlan()
    for diff, owner in [(top, workflow)] + [
        (subs[sp_id], sub) for sp_id, sub in workflow.subprocesses.items()
    ]:
        if diff is None:
            spec_name = owner.spec.name
            plan.blockers.append(
                MigrationBlocker(
                    spec_name,
                    spec_name,
                    f"the running sub-process '{spec_name}' is not part of the new version",
                    "subprocess_removed",
                )
            )
            continue
        for task in diff.removed:
            if not task.has_state(_ACTIVE | TaskState.FINISHED_MASK):
                continue  # a predicted step: it is predicted again from the new version
            element, name = _element(task)
            if element in ("Root", "Start", "End") or element.endswith(".EndJoin"):
                continue
            if task.has_state(_ACTIVE):
                why, code = (
                    "the case is at this step, which the new version does not have",
                    ("at_removed_step"),
                )
            else:
                why = (
                    "the case passed this step, which the new version does not have, so its "
                    "history could not be read against the new version"
                )
                code = "passed_removed_step"
            plan.blockers.append(MigrationBlocker(element, name, why, code))
        plan.changed += [_element(t)[0] for t in diff.changed if t.has_state(_ACTIVE)]
    unique = {(b.element, b.reason): b for b in plan.blockers}
    plan.blockers = list(unique.values())
    plan.changed = sorted(set(plan.changed))
    return plan, top, subs


class MigrationRefused(Exception):
    def __init__(self, blockers: list[MigrationBlocker]):
        self.blockers = blockers
        super().__init__("; ".join(f"{b.name} ({b.element}): {b.reason}" for b in blockers))


def migrate(
    workflow: BpmnWorkflow,
    target: DefinitionRuntime,
    *,
    ids: IdSequence,
    now: datetime,
    handler_results: dict | None = None,
) -> StepResult:
    """Move ``workflow`` onto ``target`` in place; MigrationRefused (unchanged) if it cannot.

    Deterministic like every other step (same ids, same moment), so replay can repeat it."""
    plan, top, subs = _plan(workflow, target)
    if not plan.possible:
        raise MigrationRefused(plan.blockers)
    before = snapshot(workflow)
    with task_ids(ids), engine_clock(now), handler_calls(handler_results) as calls:
        migrate_workflow(top, workflow, target.parsed.spec)
        for sp_id, sub in workflow.subprocesses.items():
            migrate_workflow(subs[sp_id], sub, target.parsed.subprocess_specs[sub.spec.name])
        workflow.subprocess_specs = target.parsed.subprocess_specs
        workflow.script_engine = target._script_engine()
        DefinitionRuntime._guard(workflow.do_engine_steps, "")
    step = _diff(before, snapshot(workflow), workflow)
    step.handler_results = calls.results
    # Timers, catches and the open tasks' assignment are taken from the new version anew.
    step.timers_changed = step.catches_changed = True
    return step
