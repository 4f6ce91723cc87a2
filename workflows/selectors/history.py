"""An instance's audit events, oldest first."""

from __future__ import annotations

from django.db.models import QuerySet

from ..models import AuditEvent, ProcessInstance


def instance_history(*, instance: ProcessInstance) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(instance=instance).order_by("sequence")
