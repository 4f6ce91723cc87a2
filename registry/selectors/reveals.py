"""Who saw whose full number, when: the registry chain's full-number views, for auditors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from django.contrib.auth import get_user_model
from django.utils import timezone

from workflows.services.access import require_audit

from ..models import Person, RegistryEvent, RegistryEventKind


@dataclass(frozen=True)
class FullNumberView:
    sequence: int
    at: datetime
    viewer: str  # the staff member's name (login if they have none)
    person: Person | None
    citizen_id: bool  # the full citizen ID (with phone and certificate numbers) was shown
    card_number: bool  # the full card account number was shown


def full_number_views(
    *, user, since: date | None = None, until: date | None = None, limit: int = 500
) -> list[FullNumberView]:
    """The latest full-number views, newest first (auditors only; the chain proves them)."""
    require_audit(user)
    events = RegistryEvent.objects.filter(kind=RegistryEventKind.PERSON_REVEALED)
    zone = timezone.get_current_timezone()
    if since:
        events = events.filter(created_at__gte=datetime.combine(since, time.min, tzinfo=zone))
    if until:
        events = events.filter(created_at__lte=datetime.combine(until, time.max, tzinfo=zone))
    events = list(events.order_by("-sequence")[:limit])
    person_ids = {
        int(e.subject.split(":", 1)[1]) for e in events if e.subject.startswith("person:")
    }
    persons = Person.objects.in_bulk(person_ids)
    logins = {e.actor for e in events}
    names = {
        u.username: u.get_full_name() or u.username
        for u in get_user_model().objects.filter(username__in=logins)
    }
    return [
        FullNumberView(
            sequence=e.sequence,
            at=e.created_at,
            viewer=names.get(e.actor, e.actor),
            person=persons.get(int(e.subject.split(":", 1)[1]))
            if e.subject.startswith("person:")
            else None,
            citizen_id=bool(e.payload.get("citizen_id")),
            card_number=bool(e.payload.get("card_number")),
        )
        for e in events
    ]
