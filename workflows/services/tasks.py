"""Working human tasks: claim, unclaim, save a draft, complete."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import extensions
from ..engine.runtime import EngineFailure, IdSequence, TaskNotReady, state_record
from ..exceptions import Conflict, IncidentRaised, InvalidInput, NotAllowed, NotFound
from ..forms import form_errors_message, task_form_errors
from ..models import AuditKind, HumanTask, HumanTaskState, InstanceState, ProcessInstance
from ..people import person_name
from .access import can_work_task
from .audit import InstanceAuditLog
from .handlers import recorded_inputs
from .instances import _require_json_object
from .runtimes import runtime_for
from .steps import persist_step


def _locked_task(task_id: int) -> tuple[ProcessInstance, HumanTask]:
    """Lock the task's instance first (one lock order for every writer), then read the task."""
    try:
        instance = (
            ProcessInstance.objects.select_for_update(of=("self",))
            .select_related("definition")
            .defer("definition__bpmn_xml")
            .get(human_tasks__pk=task_id)
        )
    except ProcessInstance.DoesNotExist:
        raise NotFound(_("Task %(id)s does not exist.") % {"id": task_id}) from None
    task = HumanTask.objects.get(pk=task_id)
    return instance, task


def _require_open(task: HumanTask, instance: ProcessInstance) -> None:
    if task.state != HumanTaskState.OPEN:
        if task.completed_by_id:
            raise Conflict(
                _("The task “%(task)s” is already %(state)s, by %(who)s.")
                % {
                    "task": task.name,
                    "state": task.get_state_display(),
                    "who": person_name(task.completed_by),
                }
            )
        raise Conflict(
            _("The task “%(task)s” is already %(state)s.")
            % {"task": task.name, "state": task.get_state_display()}
        )
    if instance.state == InstanceState.SUSPENDED:
        raise Conflict(_("The case is suspended; it must be resumed first."))
    if instance.is_finished:
        raise Conflict(_("The case is %(state)s.") % {"state": instance.get_state_display()})


def _require_reach(user, task: HumanTask) -> None:
    """Checked before anything else, so an outsider learns nothing about the task's state."""
    if not can_work_task(user, task):
        raise NotAllowed(
            _("The task “%(task)s” is not for your roles or org units.") % {"task": task.name}
        )


def _require_worker(user, task: HumanTask) -> None:
    if task.assignee_id is not None and task.assignee_id != user.pk:
        raise Conflict(_claimed_by_someone(task))


def _claimed_by_someone(task: HumanTask) -> str:
    return _("The task “%(task)s” is claimed by %(who)s.") % {
        "task": task.name,
        "who": person_name(task.assignee),
    }


def task_claim(*, task_id: int, user) -> HumanTask:
    with transaction.atomic():
        instance, task = _locked_task(task_id)
        _require_reach(user, task)
        _require_open(task, instance)
        _require_worker(user, task)
        if task.assignee_id == user.pk:
            return task
        now = timezone.now()
        task.assignee, task.claimed_at = user, now
        task.save(update_fields=["assignee", "claimed_at"])
        audit = InstanceAuditLog(instance)
        audit.append(
            actor=user,
            kind=AuditKind.TASK_CLAIMED,
            task_id=str(task.task_id),
            element_id=task.element_id,
            at=now,
        )
        instance.save(update_fields=["audit_sequence", "audit_head"])
        audit.flush()
    return task


def task_unclaim(*, task_id: int, user) -> HumanTask:
    with transaction.atomic():
        instance, task = _locked_task(task_id)
        _require_reach(user, task)
        _require_open(task, instance)
        if task.assignee_id is None:
            raise Conflict(_("The task “%(task)s” is not claimed.") % {"task": task.name})
        if task.assignee_id != user.pk:
            raise Conflict(_claimed_by_someone(task))
        task.assignee, task.claimed_at = None, None
        task.save(update_fields=["assignee", "claimed_at"])
        audit = InstanceAuditLog(instance)
        audit.append(
            actor=user,
            kind=AuditKind.TASK_UNCLAIMED,
            task_id=str(task.task_id),
            element_id=task.element_id,
        )
        instance.save(update_fields=["audit_sequence", "audit_head"])
        audit.flush()
    return task


def task_save_draft(*, task_id: int, user, data) -> HumanTask:
    data = _require_json_object(data, "data")
    with transaction.atomic():
        instance, task = _locked_task(task_id)
        _require_reach(user, task)
        _require_open(task, instance)
        _require_worker(user, task)
        task.draft_data = data
        task.save(update_fields=["draft_data"])
    return task


def task_complete(*, task_id: int, user, data) -> HumanTask:
    """Complete a task with the person's data and run the engine to the next wait.

    A failure of diagram code puts the instance into ``incident``: the entered data is kept on
    the task as a draft and the engine state is left as it was before the attempt. Data that
    breaks the task's form (workflows.forms) is refused with field errors and kept as the draft.
    """
    data = _require_json_object(data, "data")
    with transaction.atomic():
        instance, task = _locked_task(task_id)
        _require_reach(user, task)
        _require_open(task, instance)
        _require_worker(user, task)
        invalid = task_form_errors(task.form_key or "", data, instance.definition)
        if invalid:
            # Kept as the draft, so nothing typed is lost; refused below, after the commit.
            task.draft_data = data
            task.save(update_fields=["draft_data"])
            outcome = None
        else:
            outcome = _complete_locked(instance, task, data=data, user=user)
    if invalid:
        raise InvalidInput(form_errors_message(invalid), invalid)
    if outcome is not None:
        # Raised after the commit: the incident and the entered data are kept, the task stays open.
        raise IncidentRaised(
            _("The task was not completed: step %(where)s failed: %(why)s")
            % {"where": outcome.element or _("of the procedure"), "why": outcome.message}
        )
    return task


def _complete_locked(instance, task, *, data: dict, user) -> EngineFailure | None:
    """Complete the locked task; the engine failure that became an incident, if any."""
    if instance.state == InstanceState.INCIDENT:
        raise Conflict(
            _("The case has an incident (%(why)s); it must be retried first.")
            % {"why": instance.incident_message}
        )
    hook = extensions.completion_hook(task.form_key)
    if hook is not None:
        # The procedure's own rules first; a refusal leaves nothing written.
        data = _require_json_object(
            hook(task=task, instance=instance, user=user, data=data), "data"
        )
    now = timezone.now()
    runtime = runtime_for(instance.definition)
    workflow = runtime.load(instance.serialized_state)
    ids = IdSequence(instance.uuid, instance.task_id_counter)
    audit = InstanceAuditLog(instance)
    try:
        step = runtime.complete_user_task(
            workflow, task_id=task.task_id, data=data, ids=ids, now=now
        )
    except TaskNotReady:
        raise Conflict(
            _("The task “%(task)s” is no longer waiting.") % {"task": task.name}
        ) from None
    except EngineFailure as failure:
        _record_incident(instance, task, failure, data=data, user=user, audit=audit, now=now)
        return failure
    _record_completion(instance, task, workflow, step, ids, audit, data=data, user=user, now=now)
    return None


def _record_completion(instance, task, workflow, step, ids, audit, *, data, user, now) -> None:
    task.state = HumanTaskState.COMPLETED
    task.completed_at, task.completed_by, task.completed_data = now, user, data
    task.draft_data = {}
    if task.assignee_id is None:
        task.assignee, task.claimed_at = user, now
    audit.append(
        actor=user,
        kind=AuditKind.TASK_COMPLETED,
        task_id=str(task.task_id),
        element_id=task.element_id,
        at=now,
        payload={"data": data, **recorded_inputs(step), **state_record(workflow)},
    )
    task.save(
        update_fields=[
            "state",
            "completed_at",
            "completed_by",
            "completed_data",
            "draft_data",
            "assignee",
            "claimed_at",
        ]
    )
    persist_step(instance, workflow, step, ids, audit, now=now, actor=user)


def _record_incident(instance, task, failure: EngineFailure, *, data, user, audit, now) -> None:
    instance.raise_incident(message=failure.message, element=failure.element, detail=failure.detail)
    instance.updated_at = now
    audit.append(
        actor=user,
        kind=AuditKind.INCIDENT_RAISED,
        task_id=str(task.task_id),
        element_id=failure.element,
        at=now,
        payload={"message": failure.message, "line": failure.line, "data": data},
    )
    task.draft_data = data
    task.save(update_fields=["draft_data"])
    instance.save()
    audit.flush()
