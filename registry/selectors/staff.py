"""Which org units have staff in Fuzhu: a unit nobody logs in for is marked wherever it is
offered, so work is not sent where nobody will see it."""

from __future__ import annotations

from ..models import Membership


def units_with_staff(codes: list[str], *, roles: tuple[str, ...] = ()) -> set[str]:
    """The codes, of those given, whose own unit has an active user (holding one of ``roles``,
    when given)."""
    members = Membership.objects.filter(org_unit__code__in=codes, user__is_active=True)
    if roles:
        members = members.filter(role__in=roles)
    return set(members.values_list("org_unit__code", flat=True).distinct())
