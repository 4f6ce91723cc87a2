"""The scheduled verification: every chain checked, every case re-executed, the result kept for
the auditors' page. Apart from the audit log it reads, because re-execution needs the runtime,
which writes through the audit log."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.utils import timezone

from ..models import AuditVerification, ProcessInstance
from .audit import audit_verify
from .replay import instance_replay


def audit_replay_all() -> tuple[int, list[dict]]:
    """Re-execute every case from its recorded inputs; (cases replayed, those that differ)."""
    mismatches = []
    replayed = 0
    instances = ProcessInstance.objects.select_related("definition").order_by("pk")
    for instance in instances.iterator(chunk_size=200):
        report = instance_replay(instance=instance)
        replayed += 1
        if not report.matches:
            step = report.first_mismatch
            mismatches.append(
                {
                    "instance": instance.pk,
                    "sequence": step.sequence if step else None,
                    "message": (step.message if step else "; ".join(report.differences))[:500],
                }
            )
    return replayed, mismatches


def audit_verify_scheduled(
    *, now: datetime | None = None, replay: bool = True
) -> AuditVerification:
    """Check every chain, re-execute every case, and keep the result (the daily job; the
    auditors' page shows the last report)."""
    began = time.perf_counter()
    checked, breaks = audit_verify()
    replayed, mismatches = audit_replay_all() if replay else (0, [])
    return AuditVerification.objects.create(
        ran_at=now or timezone.now(),
        events_checked=checked,
        seconds=time.perf_counter() - began,
        breaks=[
            {"stream": b.stream, "sequence": b.sequence, "event": b.event_id, "message": b.message}
            for b in breaks
        ],
        instances_replayed=replayed,
        replay_mismatches=mismatches,
    )


def audit_verification_due(*, every_hours: float = 24) -> bool:
    last = AuditVerification.objects.order_by("-ran_at").values_list("ran_at", flat=True).first()
    return last is None or timezone.now() - last >= timedelta(hours=every_hours)
