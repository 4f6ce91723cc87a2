"""Messages and signals: matched by name (and, for messages, a correlation key) to waiting
instances, or to procedures that start with them. Nothing is silently lost: an event nobody
waits for is refused with a clear answer."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import conf
from ..engine.runtime import EngineFailure, IdSequence, NotWaiting, state_record
from ..exceptions import Conflict, InvalidInput, NotAllowed, NotFound
from ..models import AuditKind, InstanceState, ProcessDefinition, Subscription
from .access import grants_for
from .audit import InstanceAuditLog
from .handlers import recorded_inputs
from .instances import instance_start
from .locking import lock_instance
from .runtimes import runtime_for
from .steps import persist_step

MESSAGE, SIGNAL = Subscription.KIND_MESSAGE, Subscription.KIND_SIGNAL


@dataclass
class Delivery:
    delivered_to: list[int] = field(default_factory=list)
    started: list[int] = field(default_factory=list)


def _require_sender(user) -> None:
    if user is None or user.is_superuser:
        return
    writers = [g for g in grants_for(user) if g.role not in conf.get("READ_ALL_ROLES")]
    if not writers:
        raise NotAllowed(_("Only staff with a working role may send messages."))


def _require_payload(payload):
    if payload is not None and not isinstance(payload, dict):
        message = _("%(name)s must be a JSON object.") % {"name": "payload"}
        raise InvalidInput(message, {"payload": [message]})
    return payload or {}


def message_send(*, name: str, correlation_key: str, payload, user) -> Delivery:
    """Deliver a message to the instances waiting for it (same name and correlation key), or
    start the procedures whose start event waits for it."""
    _require_sender(user)
    payload = _require_payload(payload)
    if not name:
        raise InvalidInput(_("Name the message."), {"name": [_("This field is required.")]})
    waiting = Subscription.objects.filter(kind=MESSAGE, name=name, instance__isnull=False)
    if waiting.exists() and not correlation_key:
        raise InvalidInput(
            _(
                "The message “%(name)s” needs a correlation_key: cases wait for it by their "
                "business key."
            )
            % {"name": name},
            {"correlation_key": [_("This message needs this field.")]},
        )
    delivery = Delivery()
    instance_ids = sorted(
        set(waiting.filter(correlation_key=correlation_key).values_list("instance_id", flat=True))
    )
    for instance_id in instance_ids:
        _deliver_to(instance_id, MESSAGE, name, payload, user)
        delivery.delivered_to.append(instance_id)
    if not instance_ids:
        delivery.started = _start_by_message(name, correlation_key, payload, user)
    if not delivery.delivered_to and not delivery.started:
        raise NotFound(
            _(
                "No case waits for the message “%(name)s” with the correlation key "
                "“%(key)s”, and no procedure starts with it."
            )
            % {"name": name, "key": correlation_key}
        )
    return delivery


def signal_broadcast(*, name: str, payload, user) -> Delivery:
    """Deliver a signal to every instance waiting for it."""
    _require_sender(user)
    payload = _require_payload(payload)
    if not name:
        raise InvalidInput(_("Name the signal."), {"name": [_("This field is required.")]})
    ids = Subscription.objects.filter(kind=SIGNAL, name=name, instance__isnull=False)
    delivery = Delivery()
    for instance_id in sorted(set(ids.values_list("instance_id", flat=True))):
        try:
            _deliver_to(instance_id, SIGNAL, name, payload, user)
        except Conflict:
            continue  # a suspended instance does not hear the broadcast
        delivery.delivered_to.append(instance_id)
    if not delivery.delivered_to:
        raise NotFound(_("No case waits for the signal “%(name)s”.") % {"name": name})
    return delivery


def event_deliver(
    *, kind: str, name: str, correlation_key: str, payload, actor, exclude_instance=None
) -> list[int]:
    """Deliver an event thrown by an instance (runs in a job); returns the receivers."""
    waiting = Subscription.objects.filter(kind=kind, name=name, instance__isnull=False)
    if kind == MESSAGE:
        waiting = waiting.filter(correlation_key=correlation_key)
    receivers = []
    for instance_id in sorted(set(waiting.values_list("instance_id", flat=True))):
        if instance_id == exclude_instance:
            continue
        _deliver_to(instance_id, kind, name, payload, actor)
        receivers.append(instance_id)
    if not receivers and kind == MESSAGE:
        receivers = _start_by_message(name, correlation_key, payload or {}, actor)
    return receivers


def _deliver_to(instance_id: int, kind: str, name: str, payload, actor) -> None:
    now = timezone.now()
    with transaction.atomic():
        instance = lock_instance(instance_id)
        if instance.state not in (InstanceState.RUNNING, InstanceState.WAITING):
            raise Conflict(
                _("Case %(id)s is %(state)s: it cannot receive messages or signals.")
                % {"id": instance_id, "state": instance.get_state_display()}
            )
        runtime = runtime_for(instance.definition)
        workflow = runtime.load(instance.serialized_state)
        ids = IdSequence(instance.uuid, instance.task_id_counter)
        try:
            step = runtime.deliver(
                workflow, kind=kind, name=name, payload=payload, ids=ids, now=now
            )
        except NotWaiting as exc:
            raise Conflict(str(exc)) from None
        except EngineFailure as failure:
            raise Conflict(
                _("Case %(id)s failed on “%(name)s”: %(why)s")
                % {"id": instance_id, "name": name, "why": failure}
            ) from None
        audit = InstanceAuditLog(instance)
        audit.append(
            actor=actor,
            kind=AuditKind.EVENT_RECEIVED,
            at=now,
            payload={
                "kind": kind,
                "name": name,
                "payload": payload,
                **recorded_inputs(step),
                **state_record(workflow),
            },
        )
        persist_step(instance, workflow, step, ids, audit, now=now, actor=actor)


def _start_by_message(name: str, correlation_key: str, payload: dict, user) -> list[int]:
    started = []
    starts = Subscription.objects.filter(kind=MESSAGE, name=name, definition__isnull=False)
    for definition in ProcessDefinition.objects.filter(pk__in=starts.values("definition_id")):
        instance = instance_start(
            process_key=definition.key,
            user=user,
            business_key=correlation_key,
            variables=payload,
            definition=definition,
        )
        started.append(instance.pk)
    return started


def schedule_message_starts(definition: ProcessDefinition) -> None:
    """The newest version of a procedure is the one a start message starts."""
    Subscription.objects.filter(definition__key=definition.key).delete()
    Subscription.objects.bulk_create(
        Subscription(definition=definition, kind=MESSAGE, name=t.value, element_id=t.element)
        for t in runtime_for(definition).parsed.start_triggers
        if t.kind == "message"
    )
