"""Reading instances, with the caller's right to read checked here."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from .. import extensions
from ..exceptions import NotFound
from ..models import HumanTask, HumanTaskState, ProcessInstance, TaskCandidate
from ..services.access import can_read_instance, grants_for, reads_everything, require_audit


def instance_for_user(*, instance_id: int, user) -> ProcessInstance:
    """The instance, if the user may read it; NotFound otherwise (no hint that it exists)."""
    instance = ProcessInstance.objects.select_related("definition").filter(pk=instance_id).first()
    if instance is None or not can_read_instance(user, instance):
        raise NotFound(_("Case %(id)s does not exist.") % {"id": instance_id})
    return instance


def instance_for_audit(*, instance_id: int, user) -> ProcessInstance:
    """The instance for the audit area: NotAllowed for anyone outside it, then as
    ``instance_for_user``."""
    require_audit(user)
    return instance_for_user(instance_id=instance_id, user=user)


def active_tasks(instance: ProcessInstance) -> list[HumanTask]:
    return list(
        instance.human_tasks.filter(state=HumanTaskState.OPEN)
        .select_related("assignee")
        .order_by("created_at", "pk")
    )


def instances_visible_to(*, user) -> QuerySet[ProcessInstance]:
    """Every case the user may read, as one query: those of their units, those they started or
    hold a task on, and, of a confidential procedure, only what its own rule lets them see."""
    grants = grants_for(user)
    everything = ProcessInstance.objects.all()
    if reads_everything(user, grants):
        return everything
    confidential = extensions.confidential_process_keys()
    reach = Q(started_by=user)
    reach |= Q(pk__in=HumanTask.objects.filter(assignee=user).values("instance_id"))
    reach |= Q(
        pk__in=TaskCandidate.objects.filter(username=user.get_username()).values(
            "task__instance_id"
        )
    )
    for grant in grants:
        reach |= Q(scope_path__startswith=grant.path)
    visible = everything.filter(reach).exclude(definition__key__in=confidential)
    for key in confidential:
        ids = extensions.visible_instance_ids(key)(user)
        visible = visible | everything.filter(definition__key=key, pk__in=ids)
    return visible
