"""Who may do what: the rules every door (API, portal, commands, jobs) goes through."""

from __future__ import annotations

from django.utils.translation import gettext as _

from .. import conf, extensions
from ..exceptions import NotAllowed
from ..models import HumanTask, ProcessInstance
from ..scopes import Grant, resolver

_CACHE = "_fuzhu_grants"


def grants_for(user) -> list[Grant]:
    """The user's grants, asked of the resolver once per user object (like Django's own
    permission cache on the user): a request or job asks many times; a grant made through
    role_grant clears it."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, _CACHE, None)
    if cached is None:
        cached = resolver().grants(user)
        setattr(user, _CACHE, cached)
    return cached


def forget_grants(user) -> None:
    if user is not None and hasattr(user, _CACHE):
        delattr(user, _CACHE)


def user_has_role(user, role: str, *, scope_path: str | None = None) -> bool:
    """Whether the user holds ``role`` (somewhere, or reaching ``scope_path``)."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    for grant in grants_for(user):
        if grant.role != role:
            continue
        if scope_path is None or scope_path.startswith(grant.path):
            return True
    return False


def reads_everything(user, grants: list[Grant] | None = None) -> bool:
    if user.is_superuser:
        return True
    read_all = set(conf.get("READ_ALL_ROLES"))
    return any(
        g.role in read_all and not g.path
        for g in (grants if grants is not None else grants_for(user))
    )


def can_audit(user) -> bool:
    """The audit area (search, replay, history exports, verification) is for the roles of
    ``AUDIT_ROLES``; which cases they then find is still their read scope's business."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    audit_roles = set(conf.get("AUDIT_ROLES"))
    return any(g.role in audit_roles for g in grants_for(user))


def require_audit(user) -> None:
    if not can_audit(user):
        raise NotAllowed(
            _("The audit area is for auditors: you may read a case from its own page.")
        )


def can_work_task(user, task: HumanTask, grants: list[Grant] | None = None) -> bool:
    """The user is the assignee, a candidate user, or holds a candidate role reaching its scope."""
    if task.assignee_id is not None and task.assignee_id == user.pk:
        return True
    if user.get_username() in (task.candidate_users or []):
        return True
    grants = grants if grants is not None else grants_for(user)
    roles = set(task.candidate_roles or [])
    return any(g.role in roles and task.scope_path.startswith(g.path) for g in grants)


def can_read_instance(user, instance: ProcessInstance, grants: list[Grant] | None = None) -> bool:
    grants = grants if grants is not None else grants_for(user)
    if reads_everything(user, grants):
        return True
    guard = extensions.read_guard(instance.definition.key)
    if guard is not None:
        return bool(guard(user, instance))
    if instance.started_by_id == user.pk:
        return True
    path = instance.scope_path or resolver().scope_path(instance.scope)
    if any(path.startswith(g.path) for g in grants):
        return True
    return (
        instance.human_tasks.filter(assignee=user).exists()
        or instance.human_tasks.filter(candidates__username=user.get_username()).exists()
    )
