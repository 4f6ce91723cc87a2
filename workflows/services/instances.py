"""Starting instances and moving them through their lifecycle."""

from __future__ import annotations

import json

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed

from .. import conf, extensions
from ..engine.runtime import (
    EngineFailure,
    IdSequence,
    state_record,
)
from ..exceptions import Conflict, InvalidInput, NotAllowed
from ..forms import form_errors_message
from ..models import (
    AuditKind,
    HumanTask,
    HumanTaskState,
    InstanceState,
    ProcessDefinition,
    ProcessInstance,
)
from ..scopes import resolver
from .access import grants_for, user_has_role
from .audit import InstanceAuditLog
from .handlers import recorded_inputs
from .job_queue import job_retry_for_instance
from .locking import lock_instance
from .runtimes import runtime_for
from .starting import may_start, start_form_errors
from .steps import persist_step


def _require_json_object(value, name: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        message = _("%(name)s must be a JSON object.") % {"name": name}
        raise InvalidInput(message, {name: [message]})
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        message = _("%(name)s must be plain JSON.") % {"name": name}
        raise InvalidInput(message, {name: [message]}) from None
    if "\\u0000" in text:  # PostgreSQL's jsonb cannot hold a NUL character
        message = _("%(name)s contains a NUL character.") % {"name": name}
        raise InvalidInput(message, {name: [message]})
    return value


def instance_start(
    *,
    process_key: str,
    user,
    business_key: str = "",
    org_unit: str | None = None,
    variables: dict | None = None,
    definition: ProcessDefinition | None = None,
    delegate: bool = True,
) -> ProcessInstance:
    """Start the latest version of a procedure (or ``definition``). Scope: ``org_unit``, else the
    starter's own unit. ``user=None`` is the system (a timer or message start).

    A procedure whose domain must record the start itself (a petition's registration) registers
    a start service; every door's start is handed to it, and it calls back with
    ``delegate=False``."""
    variables = _require_json_object(variables, "variables")
    if not isinstance(process_key, str) or not process_key:
        raise InvalidInput(
            _("Name the procedure to start (process_key)."),
            {"process_key": [_("This field is required.")]},
        )
    definition = (
        definition or ProcessDefinition.objects.filter(key=process_key).order_by("-version").first()
    )
    if definition is None:
        message = _("No procedure “%(key)s” is deployed.") % {"key": process_key}
        raise InvalidInput(message, {"process_key": [message]})
    scope_resolver = resolver()
    scope = org_unit if org_unit is not None else scope_resolver.home_scope(user)
    scope_path = scope_resolver.scope_path(scope)
    if user is not None and not user.is_superuser:
        grants = grants_for(user)
        if not any(
            scope_path.startswith(g.path)
            for g in grants
            if g.role not in conf.get("READ_ALL_ROLES")
        ):
            raise NotAllowed(
                _("You hold no role in the org unit %(unit)s.") % {"unit": scope or _("(none)")}
            )
        if not may_start(user, definition, scope_path=scope_path, grants=grants):
            raise NotAllowed(
                _("You may not start “%(procedure)s” in %(unit)s.")
                % {"procedure": definition.name, "unit": scope or _("(none)")}
            )
    # The person's start form is checked here; a start service's own call (delegate=False)
    # carries the variables it made, not the form.
    invalid = start_form_errors(definition, variables) if delegate else {}
    if invalid:
        raise InvalidInput(form_errors_message(invalid), invalid)
    start_service = extensions.start_service(definition.key) if delegate else None
    if start_service is not None:
        return start_service(
            user=user, org_unit=org_unit, business_key=business_key, variables=variables
        )
    runtime = runtime_for(definition)
    now = timezone.now()
    with transaction.atomic():
        instance = ProcessInstance(
            definition=definition,
            business_key=business_key or "",
            scope=scope or "",
            scope_path=scope_path,
            started_by=user,
            serialized_state="{}",
            created_at=now,
            updated_at=now,
        )
        instance.save()
        ids = IdSequence(instance.uuid)
        audit = InstanceAuditLog(instance)
        try:
            workflow, step = runtime.start(variables=variables, ids=ids, now=now)
        except EngineFailure as failure:
            raise InvalidInput(
                _("The procedure failed at step %(where)s: %(why)s")
                % {"where": failure.element or _("start"), "why": failure.message}
            ) from failure
        audit.append(
            actor=user,
            kind=AuditKind.INSTANCE_STARTED,
            at=now,
            payload={
                "definition": {
                    "key": definition.key,
                    "version": definition.version,
                    "sha256": definition.sha256,
                },
                "uuid": str(instance.uuid),
                "business_key": instance.business_key,
                "scope": instance.scope,
                "variables": variables,
                **recorded_inputs(step),
                **state_record(workflow),
            },
        )
        try:
            persist_step(instance, workflow, step, ids, audit, now=now, actor=user)
        except EngineFailure as failure:
            # Its first task's assignment (an assignee or a due date from a variable the start
            # did not give) can fail too: the start is refused and nothing is written.
            where = failure.element or "start"
            raise InvalidInput(f"the procedure failed at {where}: {failure.message}") from failure
    return instance


def _require_operator(user) -> None:
    if user is not None and not user_has_role(user, conf.get("OPERATOR_ROLE")):
        raise NotAllowed(_("Only process owners may suspend, resume or terminate cases."))


def _require_reason(reason: str) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput(_("Give a reason."), {"reason": [_("This field is required.")]})
    return reason.strip()


def _operate(instance_id: int, user, kind: str, change, payload: dict) -> ProcessInstance:
    _require_operator(user)
    with transaction.atomic():
        instance = lock_instance(instance_id)
        before = instance.state
        try:
            change(instance)
        except TransitionNotAllowed:
            raise Conflict(
                _("The case is %(state)s: this cannot be done now.")
                % {"state": InstanceState(before).label}
            ) from None
        audit = InstanceAuditLog(instance)
        audit.append(
            actor=user, kind=kind, payload={"from": before, "to": instance.state, **payload}
        )
        instance.updated_at = timezone.now()
        instance.save()
        audit.flush()
    return instance


def instance_suspend(*, instance_id: int, user, reason: str = "") -> ProcessInstance:
    return _operate(
        instance_id, user, AuditKind.INSTANCE_SUSPENDED, lambda i: i.suspend(), {"reason": reason}
    )


def instance_resume(*, instance_id: int, user) -> ProcessInstance:
    return _operate(instance_id, user, AuditKind.INSTANCE_RESUMED, lambda i: i.resume(), {})


def instance_terminate(*, instance_id: int, user, reason: str) -> ProcessInstance:
    reason = _require_reason(reason)

    def terminate(instance: ProcessInstance) -> None:
        instance.terminate(reason=reason)
        HumanTask.objects.filter(instance=instance, state=HumanTaskState.OPEN).update(
            state=HumanTaskState.CANCELLED, completed_at=timezone.now()
        )

    return _operate(instance_id, user, AuditKind.INSTANCE_TERMINATED, terminate, {"reason": reason})


def instance_retry(*, instance_id: int, user) -> ProcessInstance:
    """Clear an incident so the failed step can be tried again: a failed job gets a fresh set
    of attempts; a failed task completion can be submitted again (its entered data is kept)."""

    def retry(instance: ProcessInstance) -> None:
        instance.resolve_incident()
        retried.extend(job_retry_for_instance(instance_id=instance.pk))

    retried: list[int] = []
    return _operate(instance_id, user, AuditKind.INCIDENT_RESOLVED, retry, {"jobs": retried})
