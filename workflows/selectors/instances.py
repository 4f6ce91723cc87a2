"""Reading instances, with the caller's right to read checked here."""

from __future__ import annotations

from ..exceptions import NotFound
from ..models import HumanTask, HumanTaskState, ProcessInstance
from ..services.access import can_read_instance


def instance_for_user(*, instance_id: int, user) -> ProcessInstance:
    """The instance, if the user may read it; NotFound otherwise (no hint that it exists)."""
    instance = ProcessInstance.objects.select_related("definition").filter(pk=instance_id).first()
    if instance is None or not can_read_instance(user, instance):
        raise NotFound(f"process instance {instance_id} does not exist")
    return instance


def active_tasks(instance: ProcessInstance) -> list[HumanTask]:
    return list(
        instance.human_tasks.filter(state=HumanTaskState.OPEN)
        .select_related("assignee")
        .order_by("created_at", "pk")
    )
