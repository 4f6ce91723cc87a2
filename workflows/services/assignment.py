"""Turning a ready user task's diagram attributes into a HumanTask row: who, where, by when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from .. import conf
from ..engine import sandbox
from ..engine.runtime import EngineFailure, ReadyUserTask
from ..engine.timeexpr import resolve_moment
from ..engine.validation import expression_inside
from ..models import HumanTask, ProcessInstance, TaskCandidate
from ..scopes import resolver, role_for_lane


def _value(raw: str, data: dict, *, element: str, attribute: str):
    """A literal, or the value of a ``${...}`` expression evaluated on the task's data."""
    code = expression_inside(raw)
    if code is None:
        return raw
    try:
        return sandbox.evaluate(code, data, time_limit=conf.get("SCRIPT_TIME_LIMIT_SECONDS"))
    except (sandbox.SandboxRuntimeError, sandbox.SandboxViolation, sandbox.SandboxTimeout) as exc:
        raise EngineFailure(f"camunda:{attribute} '{raw}': {exc}", element=element) from exc


def _names(value) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple | set):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).split(",") if part.strip()]


@dataclass
class ResolvedAssignment:
    candidate_roles: list[str]
    candidate_users: list[str]
    assignee: str
    scope: str
    due_at: datetime | None
    follow_up_at: datetime | None
    form_key: str
    remind_at: datetime | None
    escalation_role: str


def reminder_moment(due_at: datetime | None, lead: str) -> datetime | None:
    """When to remind before ``due_at``: ``lead`` is an ISO duration (``P1D``) or a number of
    working days (``3WD``)."""
    if due_at is None or not lead:
        return None
    lead = lead.strip().upper()
    if lead.endswith("WD") and lead[:-2].isdigit():
        from ..calendar import is_working_day

        day, left = timezone.localtime(due_at).date(), int(lead[:-2])
        while left > 0:
            day -= timedelta(days=1)
            left -= is_working_day(day)
        return datetime.combine(day, due_at.timetz())
    try:
        delta = resolve_moment(lead, start=due_at, tz=timezone.get_current_timezone()) - due_at
    except ValueError as exc:
        raise ValueError(f"reminder '{lead}': {exc}") from None
    return due_at - delta


def resolve_assignment(
    ready: ReadyUserTask, *, instance_scope: str, now: datetime
) -> ResolvedAssignment:
    a = ready.assignment
    element = ready.element_id

    def value(raw: str, attribute: str):
        return _value(raw, ready.data, element=element, attribute=attribute)

    roles = _names(value(a.candidate_groups, "candidateGroups"))
    if not roles and (a.lane_id or ready.lane):
        lane_role = role_for_lane(a.lane_id, ready.lane)
        roles = [lane_role] if lane_role else []
    assignee = _names(value(a.assignee, "assignee"))
    scope = value(a.scope, "scope") if a.scope else instance_scope

    def moment(raw: str, attribute: str) -> datetime | None:
        if not raw:
            return None
        resolved = value(raw, attribute)
        if resolved in (None, ""):
            return None
        try:
            return resolve_moment(resolved, start=now, tz=timezone.get_current_timezone())
        except ValueError as exc:
            raise EngineFailure(f"camunda:{attribute}: {exc}", element=element) from exc

    due_at = moment(a.due_date, "dueDate")
    try:
        remind_at = reminder_moment(due_at, a.extra.get("reminder") or conf.get("REMINDER_BEFORE"))
    except ValueError as exc:
        raise EngineFailure(str(exc), element=element) from exc
    return ResolvedAssignment(
        remind_at=remind_at,
        escalation_role=a.extra.get("escalate_to") or conf.get("ESCALATION_ROLE"),
        candidate_roles=roles,
        candidate_users=_names(value(a.candidate_users, "candidateUsers")),
        assignee=assignee[0] if assignee else "",
        scope=str(scope or ""),
        due_at=due_at,
        follow_up_at=moment(a.follow_up_date, "followUpDate"),
        form_key=a.form_key,
    )


def build_human_tasks(
    instance: ProcessInstance, created: list[ReadyUserTask], *, now: datetime
) -> tuple[list[HumanTask], list[tuple[int, TaskCandidate]]]:
    """Unsaved HumanTask rows (and their candidate rows, by index) for newly ready tasks."""
    scope_resolver = resolver()
    tasks, candidates = [], []
    assignees = {}
    resolved_all = [resolve_assignment(r, instance_scope=instance.scope, now=now) for r in created]
    wanted = {r.assignee for r in resolved_all if r.assignee}
    if wanted:
        user_model = get_user_model()
        assignees = {
            u.get_username(): u
            for u in user_model.objects.filter(**{f"{user_model.USERNAME_FIELD}__in": wanted})
        }
    for index, (ready, resolved) in enumerate(zip(created, resolved_all, strict=True)):
        assignee = assignees.get(resolved.assignee)
        candidate_users = list(resolved.candidate_users)
        if resolved.assignee and assignee is None:
            # An assignee that is no user yet stays a candidate by name; nobody is silently lost.
            candidate_users.append(resolved.assignee)
        tasks.append(
            HumanTask(
                instance=instance,
                task_id=ready.task_id,
                element_id=ready.element_id,
                name=ready.name,
                process_key=instance.definition.key,
                lane=ready.lane,
                candidate_roles=resolved.candidate_roles,
                candidate_users=candidate_users,
                assignee=assignee,
                claimed_at=now if assignee else None,
                scope=resolved.scope,
                scope_path=scope_resolver.scope_path(resolved.scope),
                due_at=resolved.due_at,
                remind_at=resolved.remind_at,
                escalation_role=resolved.escalation_role,
                follow_up_at=resolved.follow_up_at,
                form_key=resolved.form_key,
                created_at=now,
            )
        )
        candidates += [(index, TaskCandidate(role=role)) for role in resolved.candidate_roles]
        candidates += [(index, TaskCandidate(username=name)) for name in candidate_users]
    return tasks, candidates
