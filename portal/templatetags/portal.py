"""Template helpers of the portal: due states, applicant fields, compact values."""

from __future__ import annotations

import json
from datetime import timedelta

from django import template
from django.conf import settings
from django.utils import timezone

from registry.masking import mask_text

register = template.Library()


def _portal(name: str, default):
    return getattr(settings, "PORTAL", {}).get(name, default)


@register.filter
def due_state(task) -> str:
    """``overdue``, ``soon`` or ``later`` for an open task's due date ("" without one)."""
    if task.due_at is None:
        return ""
    now = timezone.now()
    if task.due_at < now:
        return "overdue"
    if task.due_at < now + timedelta(days=_portal("DUE_SOON_DAYS", 2)):
        return "soon"
    return "later"


@register.filter
def applicant_name(instance) -> str:
    return str((instance.variables or {}).get(_portal("APPLICANT_NAME_VARIABLE", ""), "") or "")


@register.filter
def applicant_id(instance) -> str:
    """The applicant's ID, masked: lists, the inbox and task pages never show it in full."""
    value = (instance.variables or {}).get(_portal("APPLICANT_ID_VARIABLE", ""), "") or ""
    return mask_text(str(value))


@register.filter
def compact(value) -> str:
    """A value as a person reads it: text as is, yes/no, lists joined, the rest as JSON."""
    if isinstance(value, bool):
        from django.utils.translation import gettext

        return gettext("yes") if value else gettext("no")
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return "、".join(str(v) for v in value)
    return json.dumps(value, ensure_ascii=False)


@register.filter
def get_item(mapping, key):
    return (mapping or {}).get(key, "")


@register.filter
def filesize(value: int) -> str:
    if value < 1024:
        return f"{value} B"
    if value < 1024 * 1024:
        return f"{value / 1024:.0f} KB"
    return f"{value / 1024 / 1024:.1f} MB"
