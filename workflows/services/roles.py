"""Granting roles (through the scope resolver, so registry/ can take over)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from .. import conf
from ..exceptions import NotAllowed
from ..models import AuditKind
from ..scopes import resolver
from .access import forget_grants, user_has_role
from .audit import audit_append_system


@transaction.atomic
def role_grant(*, user, role: str, org_unit: str = "", granted_by=None) -> None:
    """``granted_by=None`` is the operator at the command line; a person must be an operator."""
    if granted_by is not None and not user_has_role(granted_by, conf.get("OPERATOR_ROLE")):
        raise NotAllowed(_("Only process owners may grant roles."))
    scope_resolver = resolver()
    roles = scope_resolver.roles()
    if role not in roles:
        raise ValueError(f"unknown role '{role}'; roles are: {', '.join(roles)}")
    if not scope_resolver.grant(user=user, role=role, scope=org_unit or ""):
        return
    forget_grants(user)
    audit_append_system(
        actor=granted_by,
        kind=AuditKind.ROLE_GRANTED,
        payload={"user": user.get_username(), "role": role, "org_unit": org_unit or ""},
    )
