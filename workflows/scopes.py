"""Who may act where. The host only asks; the resolver (a setting) answers.

Org-unit codes are hierarchical; a resolver turns a code into a *scope path* such that a unit's
path starts with the path of every unit above it. A grant reaches every task whose scope path
starts with the grant's path; a grant with an empty path reaches everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Protocol

from django.utils.module_loading import import_string

from . import conf


@dataclass(frozen=True)
class Grant:
    role: str
    scope: str  # the org-unit code as granted; "" = everywhere
    path: str  # its scope path; "" = everywhere


class ScopeResolver(Protocol):
    def roles(self) -> dict[str, str]: ...
    def grants(self, user) -> list[Grant]: ...
    def scope_path(self, code: str) -> str: ...
    def home_scope(self, user) -> str: ...
    def grant(self, *, user, role: str, scope: str) -> bool: ...


def area_code_path(code: str) -> str:
    """Scope path of a 12-digit statistical area code (county 6 + township 3 + village 3).

    ``330102000000`` → ``330102.``; ``330102101000`` → ``330102.101.``; other codes (an
    institution's) stand alone: ``code.``."""
    code = (code or "").strip()
    if not code:
        return ""
    if len(code) == 12 and code.isdigit():
        parts = [code[:6], code[6:9], code[9:]]
        while len(parts) > 1 and set(parts[-1]) == {"0"}:
            parts.pop()
        return ".".join(parts) + "."
    return code + "."


class GrantScopeResolver:
    """The built-in resolver: roles from settings, grants from ``RoleGrant`` rows."""

    def roles(self) -> dict[str, str]:
        return dict(conf.get("ROLES"))

    def grants(self, user) -> list[Grant]:
        if user is None or not user.is_authenticated:
            return []
        if user.is_superuser:
            return [Grant(role, "", "") for role in self.roles()]
        from .models import RoleGrant

        rows = RoleGrant.objects.filter(user=user).values_list("role", "scope")
        return [Grant(role, scope, self.scope_path(scope)) for role, scope in rows]

    def scope_path(self, code: str) -> str:
        return area_code_path(code)

    def home_scope(self, user) -> str:
        scopes = [g.scope for g in self.grants(user) if g.scope]
        return max(scopes, key=lambda s: len(self.scope_path(s)), default="")

    def users_with_role(self, *, role: str, scope_path: str) -> list:
        """Users holding ``role`` with a grant that reaches ``scope_path``."""
        from .models import RoleGrant

        rows = RoleGrant.objects.filter(role=role, user__is_active=True).select_related("user")
        return [r.user for r in rows if scope_path.startswith(self.scope_path(r.scope))]

    def grant(self, *, user, role: str, scope: str) -> bool:
        """Give the grant; False when the user already held it."""
        from .models import RoleGrant

        _, created = RoleGrant.objects.get_or_create(user=user, role=role, scope=scope or "")
        return created


@cache
def _resolver_class(path: str):
    return import_string(path)


def resolver() -> ScopeResolver:
    return _resolver_class(conf.get("SCOPE_RESOLVER"))()


def role_for_lane(lane_id: str, lane_name: str, roles: dict[str, str] | None = None) -> str:
    """The role a lane stands for: its id or name is a role code, or its name a role's label."""
    roles = roles if roles is not None else resolver().roles()
    if lane_id in roles:
        return lane_id
    if lane_name in roles:
        return lane_name
    for code, label in roles.items():
        if label == lane_name:
            return code
    return conf.get("LANE_ROLES").get(lane_name) or conf.get("LANE_ROLES").get(lane_id, "")
