"""System checks: registry settings naming roles the host does not know, a resolver that does
not consult the registry, an unknown import runner."""

from __future__ import annotations

from django.core.checks import Error, Tags, Warning, register

from workflows import conf as workflows_conf

from . import conf

ROLE_LISTS = (
    "READ_ROLES",
    "WRITE_ROLES",
    "CERTIFICATE_ROLES",
    "IMPORT_ROLES",
    "ASSIGNED_ROLES",
    "FULL_ID_ROLES",
    "FULL_CARD_ROLES",
)
RESOLVER = "registry.scopes.RegistryScopeResolver"


@register(Tags.security)
def check_role_settings(app_configs, **kwargs):
    roles = set(workflows_conf.get("ROLES"))
    messages = []
    for name in ROLE_LISTS:
        for role in conf.get(name):
            if role not in roles:
                messages.append(
                    Error(
                        f"REGISTRY['{name}'] names the role '{role}', which WORKFLOWS['ROLES'] "
                        "does not define",
                        hint=f"roles are: {', '.join(sorted(roles))}",
                        id="registry.E001",
                    )
                )
    for role in conf.get("ROLE_UNIT_KINDS"):
        if role not in roles:
            messages.append(
                Error(
                    f"REGISTRY['ROLE_UNIT_KINDS'] names the unknown role '{role}'",
                    id="registry.E002",
                )
            )
    if workflows_conf.get("SCOPE_RESOLVER") != RESOLVER:
        messages.append(
            Warning(
                "the BPM host's scope resolver is not the registry's: memberships and org units "
                "do not decide who sees which tasks",
                hint=f"set WORKFLOWS['SCOPE_RESOLVER'] = '{RESOLVER}'",
                id="registry.W001",
            )
        )
    if conf.get("IMPORT_RUNNER") not in ("thread", "inline", "celery"):
        messages.append(
            Error(
                f"REGISTRY['IMPORT_RUNNER'] is '{conf.get('IMPORT_RUNNER')}'",
                hint="use thread, inline or celery",
                id="registry.E003",
            )
        )
    return messages
