"""The inbox: one query on HumanTask, filtered by what the user's grants reach."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from ..models import HumanTask, HumanTaskState, TaskCandidate
from ..scopes import Grant, resolver
from ..services.access import grants_for

# Instance variables a search looks in, besides the business key (the applicant's name and ID).
SEARCH_VARIABLES = ("applicant_name", "applicant_id")
DUE_STATES = ("overdue", "soon", "later")


def _reach(user, grants: list[Grant], *, unclaimed_only: bool = False) -> Q:
    """Tasks this user may work: assigned to them, naming them, or a role they hold in scope.

    Only the branches that can match are written: an OR across branches keeps PostgreSQL from
    walking one index (due date, scope-path prefix) and probing the candidates of each row, so
    the usual case, one role in one unit, stays a single indexed filter even with 200,000 open
    tasks. Whether any open task names the user is one indexed look-up."""
    branches = []
    if not unclaimed_only:
        branches.append(Q(assignee=user))
    named = TaskCandidate.objects.filter(
        username=user.get_username(), task__state=HumanTaskState.OPEN
    )
    if named.exists():
        branches.append(
            Q(
                Exists(
                    TaskCandidate.objects.filter(task=OuterRef("pk"), username=user.get_username())
                )
            )
        )
    by_path: dict[str, set[str]] = {}
    for grant in grants:
        by_path.setdefault(grant.path, set()).add(grant.role)
    for path, roles in sorted(by_path.items()):
        role_match = Exists(
            TaskCandidate.objects.filter(task=OuterRef("pk"), role__in=sorted(roles))
        )
        branches.append(Q(role_match, scope_path__startswith=path) if path else Q(role_match))
    if not branches:
        return Q(pk__in=[])
    reach = branches[0]
    for branch in branches[1:]:
        reach |= branch
    return reach


def inbox_for_user(
    *,
    user,
    assigned: str | None = None,
    process_key: str | None = None,
    state: str | None = None,
    element_id: str | None = None,
    org_unit: str | None = None,
    due: str | None = None,
    due_soon_days: int = 2,
    search: str | None = None,
    order: str = "due",
    grants: list[Grant] | None = None,
) -> QuerySet[HumanTask]:
    """Open tasks the user may work (``assigned='me'``: only those claimed by them).

    ``state``: ``open`` (default), ``claimed`` (by anyone) or ``unclaimed``. ``org_unit``: the
    unit's tasks and those of every unit below it. ``due``: ``overdue``, ``soon`` (within
    ``due_soon_days``) or ``later`` (or no due date). ``search``: part of the business key or of
    the applicant's name or ID. ``order``: ``due`` (soonest first, then oldest) or ``age``
    (oldest first). A fixed number of queries, whatever the filters."""
    tasks = HumanTask.objects.filter(state=HumanTaskState.OPEN)
    if assigned == "me":
        tasks = tasks.filter(assignee=user)
    else:
        grants = grants if grants is not None else grants_for(user)
        tasks = tasks.filter(_reach(user, grants, unclaimed_only=state == "unclaimed"))
    if process_key:
        tasks = tasks.filter(process_key=process_key)
    if element_id:
        tasks = tasks.filter(element_id=element_id)
    if org_unit:
        tasks = tasks.filter(scope_path__startswith=resolver().scope_path(org_unit))
    if state == "claimed":
        tasks = tasks.filter(assignee__isnull=False)
    elif state == "unclaimed":
        tasks = tasks.filter(assignee__isnull=True)
    tasks = _due_filter(tasks, due, due_soon_days)
    if search and search.strip():
        tasks = tasks.filter(_search(search.strip()))
    ordering = ("created_at", "pk") if order == "age" else ("due_at", "created_at", "pk")
    return (
        tasks.select_related("instance", "assignee")
        .defer("instance__serialized_state")
        .order_by(*ordering)
    )


def _due_filter(tasks: QuerySet[HumanTask], due: str | None, soon_days: int):
    if due not in DUE_STATES:
        return tasks
    now = timezone.now()
    soon = now + timedelta(days=soon_days)
    if due == "overdue":
        return tasks.filter(due_at__lt=now)
    if due == "soon":
        return tasks.filter(due_at__gte=now, due_at__lt=soon)
    return tasks.filter(Q(due_at__gte=soon) | Q(due_at__isnull=True))


SEARCH_CASES_LIMIT = 2000


def matching_case_ids(text: str, limit: int = SEARCH_CASES_LIMIT) -> list[int]:
    """Cases whose business key or applicant name/ID contains ``text``, newest first, at most
    ``limit`` (a search is meant to be specific). One pass over the instances: matching the
    text against every task's case in the task query makes the planner scan every task."""
    from ..models import ProcessInstance

    match = Q(business_key__icontains=text)
    for name in SEARCH_VARIABLES:
        match |= Q(**{f"variables__{name}__icontains": text})
    found = ProcessInstance.objects.filter(match).order_by("-pk").values_list("pk", flat=True)
    return list(found[:limit])


def _search(text: str) -> Q:
    return Q(instance_id__in=matching_case_ids(text))


COUNT_CAP = 1000


def capped_count(tasks: QuerySet[HumanTask], cap: int = COUNT_CAP) -> int:
    """How many, counting no further than ``cap + 1`` (a count that stops early stays fast
    however many tasks there are; show ``cap + 1`` as "more than ``cap``")."""
    return tasks.order_by()[: cap + 1].count()


def inbox_counts(
    *, user, grants: list[Grant] | None = None, cap: int = COUNT_CAP
) -> dict[str, int]:
    """How many open tasks are claimed by the user (``mine``) and how many they could claim
    (``claimable``: unclaimed tasks in their roles and units), each counted up to ``cap + 1``.
    """
    grants = grants if grants is not None else grants_for(user)
    open_tasks = HumanTask.objects.filter(state=HumanTaskState.OPEN)
    claimable = open_tasks.filter(_reach(user, grants, unclaimed_only=True), assignee__isnull=True)
    return {
        "mine": capped_count(open_tasks.filter(assignee=user), cap),
        "claimable": capped_count(claimable, cap),
    }
