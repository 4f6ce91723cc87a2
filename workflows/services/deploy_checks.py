"""The host's checks of a diagram before it deploys: who does each task, which handler runs each
service task, who may start it, what the definitions table can hold, what it calls.

The engine's checks (workflows/engine/validation.py, rules.py) look at the diagram alone; these
need the host's roles, handlers, forms and deployed processes. Every message reads in the
language of the request (Chinese by default), naming the element as the owner drew it.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from .. import extensions
from ..engine.parser import NSMAP, too_large
from ..engine.validation import EngineCheck, UserTaskInfo, expression_inside
from ..exceptions import Problem
from ..forms import form_name
from ..models import ProcessDefinition
from ..scopes import resolver, role_for_lane
from .starting import unknown_start_roles


def role_problems(task: UserTaskInfo, roles: dict[str, str]) -> list[Problem]:
    """A user task (or a plain task the diagram gives to someone) must be work someone can do."""
    assignment = task.assignment
    problems = []
    groups = assignment.candidate_groups
    if groups and expression_inside(groups) is None:
        for group in (g.strip() for g in groups.split(",")):
            if group and group not in roles:
                message = _("candidate group '%(group)s' is not a role (roles: %(roles)s)")
                problems.append(
                    Problem(
                        message % {"group": group, "roles": ", ".join(roles)},
                        task.element,
                        task.line,
                    )
                )
    elif not groups and (assignment.lane_id or task.lane):
        if not role_for_lane(assignment.lane_id, task.lane, roles):
            message = _("lane '%(lane)s' maps to no role: name the lane after a role (%(roles)s)")
            listed = ", ".join(f"{code} {label}" for code, label in roles.items())
            problems.append(
                Problem(
                    message % {"lane": task.lane or assignment.lane_id, "roles": listed},
                    task.element,
                    task.line,
                )
            )
    elif not groups and not assignment.assignee and not assignment.candidate_users:
        message = _(
            "nobody can do this task: put it in a lane or give it candidate groups, "
            "candidate users or an assignee"
        )
        problems.append(Problem(message, task.element, task.line))
    return problems


def _registered_handlers() -> str:
    names = extensions.handler_names()
    if names:
        return _("registered handlers: %(names)s") % {"names": ", ".join(names)}
    return _("no handlers are registered")


def host_problems(check: EngineCheck, forms: frozenset[str]) -> list[Problem]:
    roles = resolver().roles()
    problems: list[Problem] = []
    for task in check.user_tasks:
        problems.extend(role_problems(task, roles))
        form_key = task.assignment.form_key
        if form_key and form_name(form_key) not in forms and not extensions.form_exists(form_key):
            message = _("form '%(form)s' does not exist") % {"form": form_key}
            problems.append(Problem(message, task.element, task.line))
    for service in check.service_tasks:
        if not service.topic:
            message = _(
                "this service task names no handler: set its topic (camunda:topic) to "
                "a registered handler (%(handlers)s)"
            ) % {"handlers": _registered_handlers()}
        elif extensions.get_handler(service.topic) is None:
            message = _("service task handler '%(topic)s' is not registered (%(handlers)s)") % {
                "topic": service.topic,
                "handlers": _registered_handlers(),
            }
        else:
            continue
        problems.append(Problem(message, service.element, service.line))
    return problems


def start_role_problems(root) -> list[Problem]:
    """The ``start_roles`` property must name roles (see services/starting.py)."""
    problems = []
    for prop in root.xpath(
        "./bpmn:process/bpmn:extensionElements/camunda:properties/"
        "camunda:property[@name='start_roles']",
        namespaces=NSMAP,
    ):
        roles = [r.strip() for r in (prop.get("value") or "").split(",") if r.strip()]
        for role in unknown_start_roles(roles):
            process = prop.getparent().getparent().getparent()
            message = _("start_roles names '%(role)s', which is not a role (roles: %(roles)s)")
            problems.append(
                Problem(
                    message % {"role": role, "roles": ", ".join(resolver().roles())},
                    process.get("id", ""),
                    prop.sourceline,
                )
            )
    return problems


def record_problems(check: EngineCheck) -> list[Problem]:
    """What the definitions table cannot hold (PostgreSQL refuses over-long values)."""
    if check.parsed is None:
        return []
    key = check.parsed.key
    [process] = check.parsed.root.xpath("./bpmn:process[@id=$key]", namespaces=NSMAP, key=key)
    problems = []
    for field, what, value in (
        ("key", _("id"), key),
        ("name", _("name"), check.parsed.name),
    ):
        limit = ProcessDefinition._meta.get_field(field).max_length
        if len(value) > limit:
            message = _(
                "the process %(what)s is %(length)s characters long; the limit is %(limit)s"
            )
            problems.append(
                Problem(
                    message % {"what": what, "length": len(value), "limit": limit},
                    key,
                    process.sourceline,
                )
            )
    return problems


def called_definitions(root, missing: list[str]) -> tuple[list[ProcessDefinition], list[Problem]]:
    """The deployed processes the diagram's call activities call (``missing``: not in the file)."""
    found, problems = [], []
    for key in missing:
        latest = ProcessDefinition.objects.filter(key=key).order_by("-version").first()
        if latest is not None:
            found.append(latest)
            continue
        calls = root.xpath(".//bpmn:callActivity[@calledElement=$key]", namespaces=NSMAP, key=key)
        message = _(
            "this call activity calls process '%(key)s', which is not deployed: "
            "deploy the diagram of '%(key)s' first"
        ) % {"key": key}
        problems.extend(Problem(message, call.get("id", ""), call.sourceline) for call in calls)
    return found, problems


__all__ = [
    "called_definitions",
    "host_problems",
    "record_problems",
    "role_problems",
    "start_role_problems",
    "too_large",
]
