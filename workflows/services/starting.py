"""Who may start a procedure, and with which start form.

The right to start is the django-guardian object permission ``workflows.start_processdefinition``
on a deployed version. Deploying grants it to the roles the diagram names as starters:

* the process element's Camunda property ``start_roles`` (comma-separated role codes), e.g.
  ``<camunda:property name="start_roles" value="township_staff,village_officer"/>``;
* else the role of the lane that holds the start event (the diagram's first lane).

A role is a group named ``role:<code>`` that holds the permission on the definition; the group
needs no members: a user may start when a role they hold (from the scope resolver) reaching the
case's org unit is such a group, or when guardian gives them the permission themselves (a user
or group permission assigned by an operator). A version that names no starters and has no
permission assigned to anybody may be started by anyone holding a working role in the unit, as
before this rule existed. Superusers and the system (``user=None``) may always start.
"""

from __future__ import annotations

from functools import lru_cache

from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from guardian.core import ObjectPermissionChecker
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import assign_perm

from .. import conf
from ..engine.parser import NSMAP, DiagramError, load_xml
from ..forms import FieldErrors, form_name, form_schema, validate_form_data
from ..models import ProcessDefinition
from ..scopes import Grant, resolver, role_for_lane
from .access import grants_for

START_PERMISSION = "start_processdefinition"
ROLE_GROUP_PREFIX = "role:"


@lru_cache(maxsize=256)
def _facts(sha256: str, xml: str) -> tuple[tuple[str, ...], str]:
    """(start roles, start form key) of a diagram; cached by content."""
    try:
        root = load_xml(xml.encode(), max_bytes=max(len(xml.encode()), 1))
    except DiagramError:
        return (), ""
    processes = root.xpath("./bpmn:process[@isExecutable='true']", namespaces=NSMAP) or root.xpath(
        "./bpmn:process", namespaces=NSMAP
    )
    if not processes:
        return (), ""
    process = processes[0]
    declared = process.xpath(
        "./bpmn:extensionElements/camunda:properties/camunda:property[@name='start_roles']/@value",
        namespaces=NSMAP,
    )
    starts = process.xpath("./bpmn:startEvent", namespaces=NSMAP)
    form_key = ""
    for start in starts:
        form_key = start.get(f"{{{NSMAP['camunda']}}}formKey", "") or form_key
    if declared:
        roles = [r.strip() for r in declared[0].split(",") if r.strip()]
        return tuple(dict.fromkeys(roles)), form_key
    roles = []
    for start in starts:
        lanes = process.xpath(
            ".//bpmn:lane[bpmn:flowNodeRef[normalize-space()=$id]]",
            namespaces=NSMAP,
            id=start.get("id", ""),
        )
        for lane in lanes:
            role = role_for_lane(lane.get("id", ""), lane.get("name", ""))
            if role:
                roles.append(role)
    return tuple(dict.fromkeys(roles)), form_key


def definition_start_roles(definition: ProcessDefinition) -> list[str]:
    return list(_facts(definition.sha256, definition.bpmn_xml)[0])


def definition_start_form_key(definition: ProcessDefinition) -> str:
    return _facts(definition.sha256, definition.bpmn_xml)[1]


def unknown_start_roles(roles: list[str]) -> list[str]:
    known = resolver().roles()
    return [role for role in roles if role not in known]


def definition_grant_start(definition: ProcessDefinition) -> list[str]:
    """Give the start permission on ``definition`` to the roles its diagram names. Idempotent."""
    granted = []
    for role in definition_start_roles(definition):
        if role in unknown_start_roles([role]):
            continue
        group, _ = Group.objects.get_or_create(name=ROLE_GROUP_PREFIX + role)
        assign_perm(START_PERMISSION, group, definition)
        granted.append(role)
    return granted


def _content_type() -> ContentType:
    return ContentType.objects.get_for_model(ProcessDefinition)


def _start_grants(definition_ids: list[int]) -> tuple[dict[int, set[str]], set[int]]:
    """Per definition: the roles whose group may start it; and definitions anybody holds the
    permission on (roles, groups or users) — the others are open to every working role."""
    content_type = _content_type()
    ids = [str(pk) for pk in definition_ids]
    roles: dict[int, set[str]] = {}
    restricted: set[int] = set()
    rows = GroupObjectPermission.objects.filter(
        content_type=content_type, permission__codename=START_PERMISSION, object_pk__in=ids
    ).values_list("object_pk", "group__name")
    for object_pk, group_name in rows:
        restricted.add(int(object_pk))
        if group_name.startswith(ROLE_GROUP_PREFIX):
            roles.setdefault(int(object_pk), set()).add(group_name[len(ROLE_GROUP_PREFIX) :])
    users = UserObjectPermission.objects.filter(
        content_type=content_type, permission__codename=START_PERMISSION, object_pk__in=ids
    ).values_list("object_pk", flat=True)
    restricted.update(int(pk) for pk in users)
    return roles, restricted


def _working(grants: list[Grant]) -> list[Grant]:
    read_all = set(conf.get("READ_ALL_ROLES"))
    return [g for g in grants if g.role not in read_all]


def may_start(
    user, definition: ProcessDefinition, *, scope_path: str, grants: list[Grant] | None = None
) -> bool:
    """Whether ``user`` may start ``definition`` for a case in ``scope_path``."""
    if user is None or user.is_superuser:
        return True
    grants = grants if grants is not None else grants_for(user)
    reaching = [g for g in _working(grants) if scope_path.startswith(g.path)]
    if not reaching:
        return False
    roles, restricted = _start_grants([definition.pk])
    if definition.pk not in restricted:
        return True
    if any(g.role in roles.get(definition.pk, set()) for g in reaching):
        return True
    return ObjectPermissionChecker(user).has_perm(START_PERMISSION, definition)


def startable_definitions(user) -> list[tuple[ProcessDefinition, list[str]]]:
    """The latest version of every procedure the user may start, with the org units (codes;
    ``""`` = anywhere) they may start it in. A fixed number of queries."""
    latest: dict[str, ProcessDefinition] = {}
    for definition in ProcessDefinition.objects.defer("bpmn_xml").order_by("key", "-version"):
        latest.setdefault(definition.key, definition)
    if user.is_superuser:
        return [(d, [""]) for d in latest.values()]
    working = _working(grants_for(user))
    if not working:
        return []
    roles, restricted = _start_grants([d.pk for d in latest.values()])
    own = set()
    if restricted:
        checker = ObjectPermissionChecker(user)
        checker.prefetch_perms([d for d in latest.values() if d.pk in restricted])
        own = {d.pk for d in latest.values() if checker.has_perm(START_PERMISSION, d)}
    result = []
    for definition in latest.values():
        if definition.pk not in restricted or definition.pk in own:
            scopes = [g.scope for g in working]
        else:
            scopes = [g.scope for g in working if g.role in roles.get(definition.pk, set())]
        if scopes:
            result.append((definition, list(dict.fromkeys(scopes))))
    return result


def start_form_errors(definition: ProcessDefinition, variables: dict) -> FieldErrors:
    """Errors of ``variables`` against the start event's form (none when it has no form)."""
    key = definition_start_form_key(definition)
    if not key:
        return {}
    schema = form_schema(form_name(key), definition)
    return validate_form_data(schema, variables) if schema is not None else {}
