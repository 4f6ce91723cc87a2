"""Staff memberships: a role in an org unit and below, kept as django-guardian permissions."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils.translation import gettext
from guardian.shortcuts import assign_perm, remove_perm

from workflows import conf as workflows_conf

from .. import conf
from ..models import KIND_LEVEL, Membership, OrgUnit, OrgUnitKind, OrgUnitLevel, RegistryEventKind
from ..roles import role_permission_codename
from .audit import registry_event_append, subject_of


def role_permission(role: str) -> Permission:
    """The guardian permission standing for ``role`` (created for roles added in settings)."""
    roles = workflows_conf.get("ROLES")
    permission, _ = Permission.objects.get_or_create(
        content_type=ContentType.objects.get_for_model(OrgUnit),
        codename=role_permission_codename(role),
        defaults={"name": f"以{roles.get(role, role)}身份办理本机构及下级事务"},
    )
    return permission


def _kind_label(value: str) -> str:
    for choices in (OrgUnitKind, OrgUnitLevel):
        if value in choices.values:
            return str(choices(value).label)
    return value


def membership_check(*, role: str, org_unit: OrgUnit | None) -> None:
    """The role exists and may be held in this unit (``ValueError`` saying why not)."""
    roles = workflows_conf.get("ROLES")
    if role not in roles:
        raise ValueError(
            gettext("Choose one of the roles: %(roles)s.")
            % {"roles": "、".join(str(label) for label in roles.values())}
        )
    if org_unit is None:
        return
    if not org_unit.is_active:
        raise ValueError(
            gettext("%(unit)s (%(code)s) is no longer in use.")
            % {"unit": org_unit.name, "code": org_unit.code}
        )
    allowed = conf.get("ROLE_UNIT_KINDS").get(role)
    kind = OrgUnitKind(org_unit.kind)
    if allowed and kind.value not in allowed and KIND_LEVEL[kind].value not in allowed:
        raise ValueError(
            gettext(
                "The role %(role)s cannot be held in %(unit)s (%(kind)s); it belongs to: "
                "%(allowed)s."
            )
            % {
                "role": roles[role],
                "unit": org_unit.name,
                "kind": kind.label,
                "allowed": "、".join(_kind_label(value) for value in allowed),
            }
        )


def _may_grant(granted_by) -> bool:
    if granted_by is None or granted_by.is_superuser:
        return True
    from workflows.services.access import user_has_role

    return user_has_role(granted_by, workflows_conf.get("OPERATOR_ROLE"))


@transaction.atomic
def membership_grant(*, user, role: str, org_unit: OrgUnit | None, granted_by=None) -> bool:
    """Give ``user`` the role in ``org_unit`` and below (``None``: everywhere).

    False when already held. ``granted_by=None`` is an operator at the command line."""
    if not _may_grant(granted_by):
        from workflows.exceptions import NotAllowed

        raise NotAllowed(gettext("Only process owners may grant roles."))
    membership_check(role=role, org_unit=org_unit)
    _, created = Membership.objects.get_or_create(
        user=user, role=role, org_unit=org_unit, defaults={"granted_by": granted_by}
    )
    permission = role_permission(role)
    # Assigned even when the membership existed: repairs a permission removed by hand.
    if org_unit is not None:
        assign_perm(permission, user, org_unit)
    else:
        user.user_permissions.add(permission)
    if created:
        registry_event_append(
            actor=granted_by,
            kind=RegistryEventKind.MEMBERSHIP_GRANTED,
            subject=subject_of(user),
            payload={
                "user": user.get_username(),
                "role": role,
                "org_unit": org_unit.code if org_unit else "",
            },
        )
    return created


@transaction.atomic
def membership_revoke(*, membership: Membership, revoked_by=None) -> None:
    if not _may_grant(revoked_by):
        from workflows.exceptions import NotAllowed

        raise NotAllowed(gettext("Only process owners may revoke roles."))
    user, role, unit = membership.user, membership.role, membership.org_unit
    permission = role_permission(role)
    if unit is not None:
        remove_perm(permission, user, unit)
    else:
        user.user_permissions.remove(permission)
    membership.delete()
    registry_event_append(
        actor=revoked_by,
        kind=RegistryEventKind.MEMBERSHIP_REVOKED,
        subject=subject_of(user),
        payload={"user": user.get_username(), "role": role, "org_unit": unit.code if unit else ""},
    )
