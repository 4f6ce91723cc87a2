"""The inbox: one query on HumanTask, filtered by what the user's grants reach."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from ..models import HumanTask, HumanTaskState, TaskCandidate
from ..scopes import Grant, resolver


def _reach(user, grants: list[Grant]) -> Q:
    """Tasks this user may work: assigned to them, naming them, or a role they hold in scope."""
    reach = Q(assignee=user) | Q(
        Exists(TaskCandidate.objects.filter(task=OuterRef("pk"), username=user.get_username()))
    )
    by_path: dict[str, set[str]] = {}
    for grant in grants:
        by_path.setdefault(grant.path, set()).add(grant.role)
    for path, roles in by_path.items():
        role_match = Exists(
            TaskCandidate.objects.filter(task=OuterRef("pk"), role__in=sorted(roles))
        )
        reach |= Q(role_match, scope_path__startswith=path) if path else Q(role_match)
    return reach


def inbox_for_user(
    *, user, assigned: str | None = None, process_key: str | None = None, state: str | None = None
) -> QuerySet[HumanTask]:
    """Open tasks the user may work (``assigned='me'``: only those claimed by them).

    ``state``: ``open`` (default), ``claimed`` (by anyone) or ``unclaimed``."""
    grants = resolver().grants(user)
    tasks = HumanTask.objects.filter(state=HumanTaskState.OPEN)
    mine_only = assigned == "me"
    tasks = tasks.filter(assignee=user) if mine_only else tasks.filter(_reach(user, grants))
    if process_key:
        tasks = tasks.filter(process_key=process_key)
    if state == "claimed":
        tasks = tasks.filter(assignee__isnull=False)
    elif state == "unclaimed":
        tasks = tasks.filter(assignee__isnull=True)
    return tasks.select_related("instance", "assignee").order_by("due_at", "created_at", "pk")
