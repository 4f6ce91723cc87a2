"""Moving running cases onto a newer (or older) version of their procedure.

Which cases can move is decided by the engine (engine/migration.py): a case can move when every
step it is at, and every step it passed, exists in the target version. A move is one more event
in the case's audit chain (``instance_migrated``, with the state digest it produced), so replay
switches version at the same point and verifies the result like any other step.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from ..engine.migration import MigrationBlocker, MigrationPlan, MigrationRefused, migrate
from ..engine.migration import migration_plan as engine_plan
from ..engine.runtime import EngineFailure, IdSequence, state_record
from ..exceptions import Conflict, InvalidInput, NotFound
from ..models import (
    AuditKind,
    HumanTask,
    HumanTaskState,
    InstanceState,
    Procedure,
    ProcessDefinition,
    ProcessInstance,
    TaskCandidate,
)
from .assignment import build_human_tasks
from .audit import InstanceAuditLog
from .handlers import recorded_inputs
from .locking import lock_instance
from .procedures import require_change_procedure
from .runtimes import runtime_for
from .steps import persist_step

MOVABLE_STATES = [InstanceState.RUNNING, InstanceState.WAITING, InstanceState.SUSPENDED]


@dataclass(frozen=True)
class MigrationCandidate:
    instance: ProcessInstance
    plan: MigrationPlan


def _not_movable_state(instance: ProcessInstance) -> MigrationBlocker | None:
    if instance.state in MOVABLE_STATES:
        return None
    if instance.state == InstanceState.INCIDENT:
        return MigrationBlocker(
            "", "", "the case has an incident: retry or resolve it first", "incident"
        )
    return MigrationBlocker("", "", f"the case is {instance.state}", "finished")


def _host_blocker(instance: ProcessInstance, target: ProcessDefinition) -> MigrationBlocker | None:
    """What stops a move before the engine is asked (the engine checks the steps)."""
    if instance.definition.key != target.key:
        return MigrationBlocker("", "", "the target is another procedure", "other")
    if instance.definition_id == target.pk:
        return MigrationBlocker("", "", "the case already runs on this version", "same_version")
    return _not_movable_state(instance)


def instance_migration_plan(instance: ProcessInstance, target: ProcessDefinition) -> MigrationPlan:
    """Whether ``instance`` could move onto ``target`` now, and if not, why."""
    blocker = _host_blocker(instance, target)
    if blocker is not None:
        return MigrationPlan([blocker])
    workflow = runtime_for(instance.definition).load(instance.serialized_state)
    return engine_plan(workflow, runtime_for(target))


def migration_candidates(*, target: ProcessDefinition, user) -> list[MigrationCandidate]:
    """The live cases of ``target``'s procedure on other versions, each with its plan."""
    require_change_procedure(user, Procedure.objects.filter(key=target.key).first())
    instances = (
        ProcessInstance.objects.filter(
            definition__key=target.key, state__in=[*MOVABLE_STATES, InstanceState.INCIDENT]
        )
        .exclude(definition=target)
        .select_related("definition")
        .order_by("pk")
    )
    return [MigrationCandidate(i, instance_migration_plan(i, target)) for i in instances]


def instance_migrate(
    *, instance_id: int, to_definition_id: int, user, reason: str = ""
) -> ProcessInstance:
    """Move one case onto another version of its procedure; Conflict with the reason when it
    cannot move (nothing changes then)."""
    target = ProcessDefinition.objects.filter(pk=to_definition_id).first()
    if target is None:
        raise NotFound(f"no deployed version {to_definition_id}")
    with transaction.atomic():
        instance = lock_instance(instance_id)
        require_change_procedure(user, Procedure.objects.filter(key=target.key).first())
        if instance.definition.key != target.key:
            raise InvalidInput(
                f"case #{instance.pk} runs '{instance.definition.key}', not '{target.key}'"
            )
        blocker = _host_blocker(instance, target)
        if blocker is not None:
            raise Conflict(_refusal(instance, target, [blocker]))
        source = instance.definition
        now = timezone.now()
        workflow = runtime_for(source).load(instance.serialized_state)
        ids = IdSequence(instance.uuid, instance.task_id_counter)
        try:
            step = migrate(workflow, runtime_for(target), ids=ids, now=now)
        except MigrationRefused as refused:
            raise Conflict(_refusal(instance, target, refused.blockers)) from None
        except EngineFailure as failure:
            raise Conflict(
                f"case #{instance.pk} cannot move to version {target.version}: {failure}"
            ) from None
        instance.definition = target
        audit = InstanceAuditLog(instance)
        audit.append(
            actor=user,
            kind=AuditKind.INSTANCE_MIGRATED,
            at=now,
            payload={
                "from_definition": source.pk,
                "from_version": source.version,
                "to_definition": target.pk,
                "to_version": target.version,
                "reason": reason.strip(),
                **recorded_inputs(step),
                **state_record(workflow),
            },
        )
        _reassign_open_tasks(instance, step, now=now)
        persist_step(instance, workflow, step, ids, audit, now=now, actor=user)
    return instance


def _refusal(instance, target, blockers: list[MigrationBlocker]) -> str:
    reasons = "; ".join(
        f"{b.name} ({b.element}): {b.reason}" if b.element else b.reason for b in blockers
    )
    return f"case #{instance.pk} cannot move to version {target.version}: {reasons}"


def _reassign_open_tasks(instance: ProcessInstance, step, *, now) -> None:
    """The open tasks that stay (same engine task) take the new version's step: its name,
    lane, candidates and form. Whoever claimed one keeps it, a draft is kept, and so are its
    deadlines: they ran from when the task began, which moving the case does not change."""
    ready = {t.task_id: t for t in step.after.user_tasks.values()}
    rows = list(
        HumanTask.objects.filter(
            instance=instance, state=HumanTaskState.OPEN, task_id__in=list(ready)
        )
    )
    fresh_rows, candidates = build_human_tasks(instance, [ready[r.task_id] for r in rows], now=now)
    for row, fresh in zip(rows, fresh_rows, strict=True):
        for field in (
            "element_id",
            "name",
            "lane",
            "candidate_roles",
            "candidate_users",
            "scope",
            "scope_path",
            "escalation_role",
            "form_key",
        ):
            setattr(row, field, getattr(fresh, field))
        row.save()
    TaskCandidate.objects.filter(task__in=rows).delete()
    for index, candidate in candidates:
        candidate.task = rows[index]
    TaskCandidate.objects.bulk_create([candidate for _, candidate in candidates])
