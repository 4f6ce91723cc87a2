"""The auditors' search: cases by person, staff member, procedure, period and event kind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone

from .. import extensions
from ..models import AuditEvent, ProcessInstance
from ..services.access import require_audit
from .inbox import SEARCH_VARIABLES
from .instances import instances_visible_to


@dataclass(frozen=True)
class AuditQuery:
    person: str = ""  # name or ID number of the person the case is about
    staff: str = ""  # username or name of a staff member who acted on the case
    procedure: str = ""  # process key
    since: date | None = None
    until: date | None = None
    kind: str = ""  # an audit event kind the case's history holds

    @property
    def empty(self) -> bool:
        return not any((self.person, self.staff, self.procedure, self.since, self.until, self.kind))


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _staff_usernames(text: str) -> list[str]:
    users = get_user_model().objects.filter(
        Q(username__iexact=text) | Q(first_name__icontains=text) | Q(last_name__icontains=text)
    )
    return list(users.values_list("username", flat=True)[:200])


def _person_match(text: str) -> Q:
    match = Q(business_key__icontains=text)
    for name in SEARCH_VARIABLES:
        match |= Q(**{f"variables__{name}__icontains": text})
    for search in extensions.person_searches():
        match |= Q(pk__in=search(text))
    return match


def audit_case_search(*, user, query: AuditQuery) -> QuerySet[ProcessInstance]:
    """The cases matching every given criterion, among those the user may read.

    The period and the event kind apply to the case's history: a case matches when it holds an
    event in the period (of that kind, by that staff member, when those are given too)."""
    require_audit(user)
    found = instances_visible_to(user=user)
    if query.procedure:
        found = found.filter(definition__key=query.procedure)
    if query.person:
        found = found.filter(_person_match(query.person))
    events = AuditEvent.objects.filter(instance__isnull=False)
    filter_events = False
    if query.staff:
        events = events.filter(actor__in=_staff_usernames(query.staff))
        filter_events = True
    if query.kind:
        events, filter_events = events.filter(kind=query.kind), True
    if query.since:
        events, filter_events = events.filter(created_at__gte=_day_start(query.since)), True
    if query.until:
        until = _day_start(query.until + timedelta(days=1))
        events, filter_events = events.filter(created_at__lt=until), True
    if filter_events:
        found = found.filter(pk__in=events.values("instance_id"))
    return (
        ProcessInstance.objects.filter(pk__in=found.values("pk"))
        .select_related("definition")
        .defer("serialized_state", "definition__bpmn_xml")
        .order_by("-created_at", "-pk")
    )
