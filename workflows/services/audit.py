"""The audit chain: append-only, hash-linked events, written in the caller's transaction.

Each instance has its own chain (its row keeps the head, so appending needs no extra read and
the instance lock already serialises writers); deploys and grants go on the ``system`` chain.
"""

from __future__ import annotations

import hashlib
import json
from collections import namedtuple
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from ..audit_origin import with_origin
from ..models import AuditEvent, AuditHead, AuditKind, ProcessInstance

SYSTEM_STREAM = "system"


def instance_stream(instance_id: int) -> str:
    return f"instance:{instance_id}"


def normalise_payload(payload: dict) -> dict:
    """What the database will give back: plain JSON (dates as ISO strings)."""
    return json.loads(json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False))


def event_hash(
    *,
    stream: str,
    sequence: int,
    created_at: datetime,
    actor: str,
    kind: str,
    task_id: str,
    element_id: str,
    payload: dict,
    previous_hash: str,
) -> str:
    body = [
        stream,
        sequence,
        created_at.astimezone(UTC).isoformat(),
        actor,
        kind,
        task_id,
        element_id,
        payload,
        previous_hash,
    ]
    blob = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _actor_name(actor) -> str:
    if actor is None:
        return ""
    return actor if isinstance(actor, str) else actor.get_username()


def build_event(
    *,
    stream: str,
    sequence: int,
    previous_hash: str,
    actor,
    kind: str,
    instance_id=None,
    task_id: str = "",
    element_id: str = "",
    payload: dict | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    created_at = (at or timezone.now()).astimezone(UTC)
    # The database keeps microseconds; so does the hash. The origin is hashed with the rest.
    payload = normalise_payload(with_origin(payload or {}))
    actor_name = _actor_name(actor)
    digest = event_hash(
        stream=stream,
        sequence=sequence,
        created_at=created_at,
        actor=actor_name,
        kind=kind,
        task_id=task_id,
        element_id=element_id,
        payload=payload,
        previous_hash=previous_hash,
    )
    return AuditEvent(
        stream=stream,
        sequence=sequence,
        instance_id=instance_id,
        created_at=created_at,
        actor=actor_name,
        kind=kind,
        task_id=task_id,
        element_id=element_id,
        payload=payload,
        previous_hash=previous_hash,
        hash=digest,
    )


class InstanceAuditLog:
    """Collects an instance's events during one write; ``flush`` inserts them in one statement.

    The caller holds the instance row lock and saves the instance (with its new head) itself."""

    def __init__(self, instance: ProcessInstance):
        self.instance = instance
        self.pending: list[AuditEvent] = []

    def append(
        self,
        *,
        actor,
        kind: str,
        task_id: str = "",
        element_id: str = "",
        payload: dict | None = None,
        at: datetime | None = None,
    ) -> AuditEvent:
        instance = self.instance
        event = build_event(
            stream=instance_stream(instance.pk),
            sequence=instance.audit_sequence + 1,
            previous_hash=instance.audit_head,
            actor=actor,
            kind=kind,
            instance_id=instance.pk,
            task_id=task_id,
            element_id=element_id,
            payload=payload,
            at=at,
        )
        instance.audit_sequence = event.sequence
        instance.audit_head = event.hash
        self.pending.append(event)
        return event

    def flush(self) -> None:
        if self.pending:
            AuditEvent.objects.bulk_create(self.pending)
            self.pending = []


@transaction.atomic
def audit_append(
    *, stream: str, actor, kind: str, payload: dict, element_id: str = ""
) -> AuditEvent:
    """Append to a chain kept by an ``AuditHead`` row: the system chain, or a domain record's
    own chain (``petition:12``), locked for the append so two writers cannot fork it."""
    if stream.startswith("instance:"):
        raise ValueError("instance chains are appended through InstanceAuditLog")
    head, _ = AuditHead.objects.select_for_update().get_or_create(stream=stream)
    event = build_event(
        stream=stream,
        sequence=head.sequence + 1,
        previous_hash=head.head,
        actor=actor,
        kind=kind,
        element_id=element_id,
        payload=payload,
    )
    event.save()
    head.sequence, head.head = event.sequence, event.hash
    head.save(update_fields=["sequence", "head"])
    return event


def audit_record_change(*, stream: str, actor, change: str, payload: dict) -> AuditEvent:
    """A procedure's domain record changed (a petition, an application, a subsidy cycle): one
    event on that record's own chain, e.g. ``petition:12``; ``change`` names what happened."""
    return audit_append(
        stream=stream,
        actor=actor,
        kind=AuditKind.RECORD_CHANGED,
        element_id=change,
        payload=payload,
    )


def audit_append_system(*, actor, kind: str, payload: dict) -> AuditEvent:
    return audit_append(stream=SYSTEM_STREAM, actor=actor, kind=kind, payload=payload)


@dataclass(frozen=True)
class ChainBreak:
    stream: str
    sequence: int
    event_id: int | None
    message: str


def _expected_heads() -> dict[str, tuple[int, str]]:
    heads = {h.stream: (h.sequence, h.head) for h in AuditHead.objects.all()}
    for pk, sequence, head in ProcessInstance.objects.values_list(
        "pk", "audit_sequence", "audit_head"
    ):
        heads[instance_stream(pk)] = (sequence, head)
    return heads


def verify_stream(events, *, stream: str, expected: tuple[int, str] | None) -> ChainBreak | None:
    """Walk one chain in sequence order; the first event that does not fit is the break."""
    previous_hash, expected_sequence = "", 1
    for event in events:
        if event.sequence != expected_sequence:
            return ChainBreak(
                stream,
                expected_sequence,
                event.id,
                f"event {expected_sequence} is missing (found {event.sequence} next)",
            )
        if event.previous_hash != previous_hash:
            return ChainBreak(stream, event.sequence, event.id, "its previous hash does not match")
        recomputed = event_hash(
            stream=event.stream,
            sequence=event.sequence,
            created_at=event.created_at,
            actor=event.actor,
            kind=event.kind,
            task_id=event.task_id,
            element_id=event.element_id,
            payload=event.payload,
            previous_hash=event.previous_hash,
        )
        if recomputed != event.hash:
            return ChainBreak(stream, event.sequence, event.id, "its content was altered")
        previous_hash, expected_sequence = event.hash, expected_sequence + 1
    if expected is not None and (expected_sequence - 1, previous_hash) != expected:
        return ChainBreak(
            stream,
            expected_sequence,
            None,
            f"the chain ends at event {expected_sequence - 1} but {expected[0]} were written",
        )
    return None


_VERIFIED_FIELDS = (
    "id",
    "stream",
    "sequence",
    "created_at",
    "actor",
    "kind",
    "task_id",
    "element_id",
    "payload",
    "previous_hash",
    "hash",
)
_VerifiedRow = namedtuple("_VerifiedRow", _VERIFIED_FIELDS)


def audit_verify(*, streams: list[str] | None = None) -> tuple[int, list[ChainBreak]]:
    """Check every chain (or the given ones). Returns (events checked, breaks)."""
    heads = _expected_heads()
    query = AuditEvent.objects.order_by("stream", "sequence")
    if streams:
        query = query.filter(stream__in=streams)
    breaks: list[ChainBreak] = []
    checked = 0
    current: list[_VerifiedRow] = []
    seen: set[str] = set()

    def close(stream_events: list[_VerifiedRow]) -> None:
        stream = stream_events[0].stream
        seen.add(stream)
        found = verify_stream(stream_events, stream=stream, expected=heads.get(stream))
        if found:
            breaks.append(found)

    # Plain rows, not model instances: verifying a million events is mostly this loop.
    rows = query.values_list(*_VERIFIED_FIELDS).iterator(chunk_size=5000)
    for event in (_VerifiedRow(*values) for values in rows):
        checked += 1
        if current and event.stream != current[0].stream:
            close(current)
            current = []
        current.append(event)
    if current:
        close(current)
    for stream, (sequence, _) in heads.items():
        if sequence and stream not in seen and (not streams or stream in streams):
            breaks.append(ChainBreak(stream, 1, None, f"all {sequence} events are missing"))
    return checked, breaks


EXPORT_FORMAT = "fuzhu-audit-export/1"


def audit_export(*, stream: str) -> dict:
    """A chain as JSON, with everything its hashes cover, so it can be checked outside Fuzhu
    (tools/verify_audit_export.py)."""
    events = AuditEvent.objects.filter(stream=stream).order_by("sequence")
    return {
        "format": EXPORT_FORMAT,
        "stream": stream,
        "exported_at": timezone.now().astimezone(UTC).isoformat(),
        "hash_rule": (
            "sha256 of the compact JSON (sorted keys, UTF-8, separators ',' ':') of "
            "[stream, sequence, created_at (UTC ISO 8601), actor, kind, task_id, element_id, "
            "payload, previous_hash]"
        ),
        "events": [
            {
                "sequence": e.sequence,
                "created_at": e.created_at.astimezone(UTC).isoformat(),
                "actor": e.actor,
                "kind": e.kind,
                "task_id": e.task_id,
                "element_id": e.element_id,
                "payload": e.payload,
                "previous_hash": e.previous_hash,
                "hash": e.hash,
            }
            for e in events
        ],
    }
