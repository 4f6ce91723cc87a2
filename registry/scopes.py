"""The BPM host's scope resolver, answered from org units and django-guardian permissions.

Set ``WORKFLOWS["SCOPE_RESOLVER"] = "registry.scopes.RegistryScopeResolver"``. A membership is
the guardian permission ``registry.role_<role>`` on an org unit (global for "everywhere"); it
reaches the unit and every unit below, because a unit's path starts with its parents' paths.
"""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Q, Value

from workflows import conf as workflows_conf
from workflows.scopes import Grant, area_code_path

from .roles import ROLE_PERMISSION_PREFIX


def _org_unit_content_type() -> ContentType:
    from .models import OrgUnit

    return ContentType.objects.get_for_model(OrgUnit)  # cached by Django after the first call


class RegistryScopeResolver:
    def roles(self) -> dict[str, str]:
        return dict(workflows_conf.get("ROLES"))

    def grants(self, user) -> list[Grant]:
        """One query: the user's role permissions on active org units, plus global ones."""
        if user is None or not user.is_authenticated:
            return []
        if user.is_superuser:
            return [Grant(role, "", "") for role in self.roles()]
        from .models import OrgUnitUserObjectPermission

        content_type = _org_unit_content_type()
        in_units = OrgUnitUserObjectPermission.objects.filter(
            user=user,
            permission__content_type=content_type,
            permission__codename__startswith=ROLE_PERMISSION_PREFIX,
            content_object__is_active=True,
        ).values_list("permission__codename", "content_object__code", "content_object__path")
        in_units = in_units.order_by()
        empty = Value("", output_field=CharField())
        everywhere = Permission.objects.filter(
            user=user, content_type=content_type, codename__startswith=ROLE_PERMISSION_PREFIX
        ).values_list("codename", empty, empty)
        everywhere = everywhere.order_by()
        rows = in_units.union(everywhere, all=True)
        prefix = len(ROLE_PERMISSION_PREFIX)
        return sorted(
            {Grant(codename[prefix:], code, path) for codename, code, path in rows},
            key=lambda g: (g.path, g.role),
        )

    def scope_path(self, code: str) -> str:
        """Area codes by their digits (no query); institutions by their stored path."""
        code = (code or "").strip()
        if not code or (len(code) == 12 and code.isdigit()):
            return area_code_path(code)
        from .services.org_units import org_unit_path

        return org_unit_path(code)

    def home_scope(self, user) -> str:
        """The most specific unit the user holds a working role in ("" if none)."""
        read_all = set(workflows_conf.get("READ_ALL_ROLES"))
        grants = [g for g in self.grants(user) if g.scope]
        working = [g for g in grants if g.role not in read_all] or grants
        best = max(working, key=lambda g: (len(g.path), g.scope), default=None)
        return best.scope if best else ""

    def users_with_role(self, *, role: str, scope_path: str) -> list:
        """Active users holding ``role`` in a unit whose path is a prefix of ``scope_path`` (or
        everywhere): the people to tell about a task there."""
        from django.contrib.auth import get_user_model

        from .models import OrgUnitUserObjectPermission

        content_type = _org_unit_content_type()
        codename = ROLE_PERMISSION_PREFIX + role
        parts = [p for p in (scope_path or "").split(".") if p]
        prefixes = [".".join(parts[: i + 1]) + "." for i in range(len(parts))]
        in_units = OrgUnitUserObjectPermission.objects.filter(
            permission__content_type=content_type,
            permission__codename=codename,
            content_object__path__in=prefixes,
            content_object__is_active=True,
        ).values("user_id")
        everywhere = Permission.objects.filter(content_type=content_type, codename=codename).values(
            "user__id"
        )
        users = get_user_model().objects.filter(is_active=True)
        return list(users.filter(Q(pk__in=in_units) | Q(pk__in=everywhere)).order_by("username"))

    def grant(self, *, user, role: str, scope: str) -> bool:
        """Give the membership; False when already held. Unknown units raise ``ValueError``."""
        from .services.memberships import membership_grant
        from .services.org_units import org_unit_by_code

        unit = org_unit_by_code(scope) if scope else None
        return membership_grant(user=user, role=role, org_unit=unit, granted_by=None)
