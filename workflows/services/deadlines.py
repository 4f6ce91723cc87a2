"""Human-task deadlines: a reminder before the due date, an escalation when it passes.

The sweep marks each task once (``reminded_at``, ``escalated_at``) in the same transaction as
the notifications it queues, so a second sweep does not remind twice.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from ..models import AuditKind, HumanTask, HumanTaskState
from ..scopes import resolver
from .audit import InstanceAuditLog
from .locking import lock_instance
from .notifications import notification_queue


def _people(task: HumanTask, *, role: str = "") -> list:
    """Whom to tell about a task: its assignee, else its candidate users, else who holds its
    roles (or ``role``) where the task is."""
    user_model = get_user_model()
    if role:
        return _holders(role, task.scope_path)
    if task.assignee_id:
        return [task.assignee]
    if task.candidate_users:
        return list(user_model.objects.filter(username__in=task.candidate_users))
    people = []
    for candidate_role in task.candidate_roles:
        people += _holders(candidate_role, task.scope_path)
    return people


def _holders(role: str, scope_path: str) -> list:
    finder = getattr(resolver(), "users_with_role", None)
    return list(finder(role=role, scope_path=scope_path)) if finder else []


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y年%-m月%-d日 %H:%M")


def deadlines_sweep(*, now: datetime | None = None) -> tuple[int, int]:
    """Send due reminders and escalate overdue tasks. Returns (reminded, escalated)."""
    now = now or timezone.now()
    open_tasks = HumanTask.objects.filter(state=HumanTaskState.OPEN)
    reminded = escalated = 0
    due_soon = open_tasks.filter(remind_at__lte=now, reminded_at=None, due_at__gt=now)
    for task in due_soon.select_related("instance__definition", "assignee"):
        with transaction.atomic():
            if HumanTask.objects.filter(pk=task.pk, reminded_at=None).update(reminded_at=now):
                for person in _people(task):
                    notification_queue(
                        channel="sms",
                        recipient=person,
                        subject="待办即将到期",
                        body=f"「{task.instance.definition.name}」的任务「{task.name}」"
                        f"将于{_local(task.due_at)}到期，请及时办理。",
                        reason="reminder",
                        instance=task.instance,
                        task=task,
                    )
                reminded += 1
    overdue = open_tasks.filter(due_at__lte=now, escalated_at=None)
    for task in overdue.select_related("instance__definition", "assignee"):
        escalated += _escalate(task.pk, now)
    return reminded, escalated


def _escalate(task_id: int, now: datetime) -> int:
    with transaction.atomic():
        instance_id = HumanTask.objects.values_list("instance_id", flat=True).get(pk=task_id)
        instance = lock_instance(instance_id)
        task = HumanTask.objects.select_related("assignee").get(pk=task_id)
        if task.state != HumanTaskState.OPEN or task.escalated_at is not None:
            return 0
        task.escalated_at = now
        task.save(update_fields=["escalated_at"])
        audit = InstanceAuditLog(instance)
        audit.append(
            actor="",
            kind=AuditKind.TASK_ESCALATED,
            task_id=str(task.task_id),
            element_id=task.element_id,
            at=now,
            payload={"due": task.due_at.isoformat(), "escalated_to": task.escalation_role},
        )
        instance.save(update_fields=["audit_sequence", "audit_head"])
        audit.flush()
        recipients = _people(task) + (
            _people(task, role=task.escalation_role) if task.escalation_role else []
        )
        for person in {p.pk: p for p in recipients}.values():
            notification_queue(
                channel="sms",
                recipient=person,
                subject="待办已超期",
                body=f"「{instance.definition.name}」的任务「{task.name}」已于{_local(task.due_at)}"
                f"超期，尚未办结。",
                reason="escalation",
                instance=instance,
                task=task,
            )
    return 1
