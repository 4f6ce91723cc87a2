"""Registry events about one subject during a period, for a case's history (auditors)."""

from __future__ import annotations

from datetime import datetime

from workflows.extensions import RecordEvent

from ..models import RegistryEvent, RegistryEventKind


def registry_events_about(
    subject: str, *, since: datetime, until: datetime | None = None
) -> tuple[RecordEvent, ...]:
    """What the registry recorded about ``subject`` (``person:12``) from ``since``: views of
    the full ID or card number, changes of the person and their payout account."""
    events = RegistryEvent.objects.filter(subject=subject, created_at__gte=since)
    if until is not None:
        events = events.filter(created_at__lte=until)
    labels = dict(RegistryEventKind.choices)
    return tuple(
        RecordEvent(
            at=e.created_at,
            actor=e.actor,
            kind=e.kind,
            label=str(labels.get(e.kind, e.kind)),
            source="registry",
            sequence=e.sequence,
            payload=e.payload,
        )
        for e in events.order_by("sequence")
    )
