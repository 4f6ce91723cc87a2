"""Template helpers of the assistive-device pages."""

from __future__ import annotations

from django import template

from processes.devices.money import yuan as format_yuan

register = template.Library()


@register.filter
def yuan(amount) -> str:
    """An amount of yuan as people read it: ``1,280.00``."""
    return format_yuan(amount)
