"""The registry's audit chain: append-only, hash-linked, written in the caller's transaction.

The same construction as the BPM host's chains (``workflows.services.audit``): each event's hash
covers its content and the previous hash, so an altered, removed or inserted event shows.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC

from django.db import transaction
from django.utils import timezone

from workflows.audit_origin import with_origin
from workflows.services.audit import normalise_payload

from ..models import RegistryEvent, RegistryEventHead

HEAD_ID = 1


def _hash(*, sequence, created_at, actor, kind, subject, payload, previous_hash) -> str:
    body = [
        "registry",
        sequence,
        created_at.astimezone(UTC).isoformat(),
        actor,
        kind,
        subject,
        payload,
        previous_hash,
    ]
    blob = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _actor_name(actor) -> str:
    if actor is None:
        return ""
    return actor if isinstance(actor, str) else actor.get_username()


def subject_of(obj) -> str:
    return f"{obj._meta.model_name}:{obj.pk}" if obj is not None else ""


@transaction.atomic
def registry_event_append(
    *, actor, kind: str, subject: str = "", payload: dict | None = None
) -> RegistryEvent:
    """Append one event; the head row lock makes concurrent writers queue, never fork."""
    head, _ = RegistryEventHead.objects.select_for_update().get_or_create(pk=HEAD_ID)
    created_at = timezone.now().astimezone(UTC)
    payload = normalise_payload(with_origin(payload or {}))
    actor_name = _actor_name(actor)
    sequence = head.sequence + 1
    event = RegistryEvent.objects.create(
        sequence=sequence,
        created_at=created_at,
        actor=actor_name,
        kind=kind,
        subject=subject,
        payload=payload,
        previous_hash=head.head,
        hash=_hash(
            sequence=sequence,
            created_at=created_at,
            actor=actor_name,
            kind=kind,
            subject=subject,
            payload=payload,
            previous_hash=head.head,
        ),
    )
    head.sequence, head.head = event.sequence, event.hash
    head.save(update_fields=["sequence", "head"])
    return event


@dataclass(frozen=True)
class RegistryChainBreak:
    sequence: int
    message: str


def registry_audit_verify() -> tuple[int, list[RegistryChainBreak]]:
    """Walk the chain; returns (events checked, breaks)."""
    head = RegistryEventHead.objects.filter(pk=HEAD_ID).first()
    previous, expected, checked = "", 1, 0
    for event in RegistryEvent.objects.order_by("sequence").iterator(chunk_size=5000):
        checked += 1
        if event.sequence != expected:
            found = f"event {expected} is missing (found {event.sequence} next)"
            return checked, [RegistryChainBreak(expected, found)]
        if event.previous_hash != previous:
            return checked, [RegistryChainBreak(event.sequence, "its previous hash does not match")]
        recomputed = _hash(
            sequence=event.sequence,
            created_at=event.created_at,
            actor=event.actor,
            kind=event.kind,
            subject=event.subject,
            payload=event.payload,
            previous_hash=event.previous_hash,
        )
        if recomputed != event.hash:
            return checked, [RegistryChainBreak(event.sequence, "its content was altered")]
        previous, expected = event.hash, expected + 1
    written = head.sequence if head else 0
    if written != expected - 1 or (head and head.head != previous):
        message = f"the chain ends at event {expected - 1} but {written} were written"
        return checked, [RegistryChainBreak(expected, message)]
    return checked, []
