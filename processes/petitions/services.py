"""Petition services: registration, and the rules applied when each step's task is completed.

Every step is a user task of ``petition_first_receiver.bpmn``; its form key names a completion
hook below, so the same rules hold whether the task is completed in the portal or the API.
Every change of the petition is appended to the petition's own audit chain.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed
from guardian.shortcuts import assign_perm

from registry.identity import IdentityError, citizen_id_parse
from workflows import calendar
from workflows.exceptions import Conflict, InvalidInput, NotAllowed
from workflows.models import HumanTask, ProcessInstance
from workflows.scopes import resolver
from workflows.services.audit import audit_record_change
from workflows.services.instances import instance_start
from workflows.services.messages import message_send

from . import conf
from .models import Channel, HandlingAssignment, Petition, PetitionState, Satisfaction
from .selectors import final_petitions_like

PROCESS_KEY = "petition_first_receiver"
VIEW_PERMISSION = "petitions.view_petition_case"


def _stream(petition: Petition) -> str:
    return f"petition:{petition.pk}"


def _record(petition: Petition, *, actor, change: str, **details) -> None:
    audit_record_change(
        stream=_stream(petition),
        actor=actor,
        change=change,
        payload={"petition": petition.number, "state": petition.state, **details},
    )


def _end_of_day(day: date) -> datetime:
    return datetime.combine(
        day, datetime.max.time().replace(microsecond=0), tzinfo=timezone.get_current_timezone()
    )


def _days_after(moment: datetime, days: int) -> datetime:
    return _end_of_day(timezone.localtime(moment).date() + timedelta(days=days))


def _required(data: dict, *names: str) -> dict:
    missing = {n: ["this field is required"] for n in names if not str(data.get(n) or "").strip()}
    if missing:
        raise InvalidInput(f"missing: {', '.join(missing)}", missing)
    return data


def _next_number(received: datetime) -> str:
    year = timezone.localtime(received).year
    count = Petition.objects.filter(number__startswith=f"XF{year}-").count()
    return f"XF{year}-{count + 1:05d}"


def _petitioner_id(raw: str) -> str:
    """The petitioner's citizen ID, checked as every form checks one; a petitioner may give
    none (a letter, an anonymous call), but a given ID must be a real one."""
    if not (raw or "").strip():
        return ""
    try:
        return citizen_id_parse(raw).number
    except IdentityError as exc:
        raise InvalidInput(exc.message, {"petitioner_id_number": [exc.message]}) from None


@transaction.atomic
def petition_register(
    *,
    user,
    channel: str,
    petitioner_name: str,
    subject: str,
    content: str,
    petitioner_id_number: str = "",
    petitioner_phone: str = "",
    notice: str = "",
    received_at: datetime | None = None,
    receiving_unit: str | None = None,
) -> Petition:
    """Any staff member registers what they received and becomes its first receiver (首接人)."""
    fields = {
        "channel": channel,
        "petitioner_name": petitioner_name,
        "subject": subject,
        "content": content,
    }
    _required(fields, *fields)
    if channel not in Channel.values:
        raise InvalidInput(
            f"unknown channel '{channel}'", {"channel": [f"one of {', '.join(Channel.values)}"]}
        )
    id_number = _petitioner_id(petitioner_id_number)
    received_at = received_at or timezone.now()
    unit = receiving_unit if receiving_unit is not None else resolver().home_scope(user)
    if not unit:
        raise NotAllowed("only staff of a federation unit can register petitions")
    petition = Petition.objects.create(
        number=_next_number(received_at),
        first_receiver=user,
        receiving_unit=unit,
        channel=channel,
        received_at=received_at,
        petitioner_name=petitioner_name.strip(),
        petitioner_id_number=id_number,
        petitioner_phone=petitioner_phone.strip(),
        subject=subject.strip(),
        content=content.strip(),
        notice=notice.strip(),
        notice_given_at=received_at if notice.strip() else None,
        acceptance_due=_days_after(received_at, conf.get("ACCEPT_DAYS")),
        repeat_of=final_petitions_like(id_number, subject).first(),
    )
    objection_due = calendar.working_days_deadline(
        conf.get("OBJECTION_WORKING_DAYS"), start=received_at
    )
    instance = instance_start(
        process_key=PROCESS_KEY,
        user=user,
        business_key=petition.number,
        org_unit=unit,
        delegate=False,
        variables={
            "petition_id": petition.pk,
            "number": petition.number,
            "first_receiver": user.get_username(),
            "acceptance_due": petition.acceptance_due.isoformat(),
            "objection_due": objection_due.isoformat(),
            **_repeat_warning(petition),
        },
    )
    petition.instance = instance
    petition.save(update_fields=["instance"])
    assign_perm(VIEW_PERMISSION, user, petition)
    _record(petition, actor=user, change="registered", channel=channel, unit=unit)
    return petition


def _repeat_warning(petition: Petition) -> dict:
    """A matter closed for good after re-review is not accepted again: say so on the case."""
    if petition.repeat_of is None:
        return {}
    earlier = petition.repeat_of
    return {
        "repeat_of": earlier.number,
        "warning": f"同一信访人同一事项已于{timezone.localtime(earlier.closed_at):%Y年%m月%d日}"
        f"复核终结（{earlier.number}），依法不再受理。",
    }


def start_from_form(*, user, org_unit, business_key, variables: dict) -> ProcessInstance:
    """Every start of the procedure (portal start form, API) registers a petition first."""
    if user is None:
        raise NotAllowed("a petition is registered by the staff member who received it")
    fields = ("channel", "petitioner_name", "petitioner_id_number", "petitioner_phone",
              "subject", "content", "notice")  # fmt: skip
    petition = petition_register(
        user=user,
        receiving_unit=org_unit or None,
        **{name: str(variables.get(name) or "") for name in fields},
    )
    return petition.instance


def _petition_of(instance: ProcessInstance) -> Petition:
    return Petition.objects.select_for_update().get(instance=instance)


def _transition(petition: Petition, action, *, conflict: str) -> None:
    try:
        action()
    except TransitionNotAllowed:
        raise Conflict(conflict) from None


# --- completion hooks, by form key ------------------------------------------------------------


def on_acceptance(*, task: HumanTask, instance, user, data: dict) -> dict:
    petition = _petition_of(instance)
    decision = data.get("decision")
    now = timezone.now()
    if decision == "accepted":
        reply_due = _days_after(now, conf.get("REPLY_DAYS"))
        _transition(
            petition,
            lambda: petition.accept(at=now, reply_due=reply_due),
            conflict=f"petition {petition.number} is {petition.state}",
        )
        extra = {"reply_due": reply_due.isoformat()}
    elif decision == "not_in_remit":
        _required(data, "remit_body")
        petition.refuse_remit(body=str(data["remit_body"]).strip())
        extra = {}
    elif decision == "answered_on_spot":
        _required(data, "answer")
        petition.answer_on_spot()
        petition.reply_text = str(data["answer"]).strip()
        extra = {}
    else:
        raise InvalidInput(
            "choose a decision",
            {"decision": ["one of accepted, not_in_remit, answered_on_spot"]},
        )
    if str(data.get("notice") or "").strip():
        petition.notice, petition.notice_given_at = str(data["notice"]).strip(), now
    petition.save()
    _record(petition, actor=user, change="acceptance_decided", decision=decision)
    return {"decision": decision, **extra}


def on_objection_notice(*, task, instance, user, data: dict) -> dict:
    _required(data, "told_on")
    petition = _petition_of(instance)
    _record(petition, actor=user, change="petitioner_told", told_on=str(data["told_on"]))
    return {"told_on": str(data["told_on"])}


def on_follow_up(*, task, instance, user, data: dict) -> dict:
    petition = _petition_of(instance)
    action = data.get("action")
    if action == "assign_units":
        raw = data.get("units") or []
        if isinstance(raw, str):  # a text field: codes separated by commas or spaces
            raw = raw.replace("，", ",").replace(" ", ",").split(",")
        units = [str(u).strip() for u in raw if str(u).strip()]
        if not units:
            raise InvalidInput("name at least one handling unit", {"units": ["required"]})
        for unit in units:
            HandlingAssignment.objects.create(
                petition=petition,
                unit=unit,
                instruction=str(data.get("instruction") or ""),
                assigned_by=user,
            )
        _record(petition, actor=user, change="assigned", units=units)
        return {"action": action, "units": units}
    if action == "request_extension":
        _require_extension_allowed(petition, data)
        days = int(data["extension_days"])
        _record(petition, actor=user, change="extension_requested", days=days)
        return {"action": action, "extension_days": days, "extension_reason": data["reason"]}
    if action == "ready_to_reply":
        return {"action": action}
    raise InvalidInput(
        "choose what happens next",
        {"action": ["one of assign_units, request_extension, ready_to_reply"]},
    )


def _require_extension_allowed(petition: Petition, data: dict) -> None:
    _required(data, "extension_days", "reason")
    if petition.extension_days:
        raise Conflict(f"petition {petition.number} was extended once already")
    try:
        days = int(data["extension_days"])
    except (TypeError, ValueError):
        raise InvalidInput(
            "extension_days must be a number", {"extension_days": ["a number"]}
        ) from None
    limit = conf.get("EXTENSION_MAX_DAYS")
    if not 1 <= days <= limit:
        raise InvalidInput(
            f"an extension is 1 to {limit} days", {"extension_days": [f"1 to {limit}"]}
        )


def on_unit_report(*, task: HumanTask, instance, user, data: dict) -> dict:
    _required(data, "report")
    petition = _petition_of(instance)
    assignment = (
        petition.assignments.filter(unit=task.scope, reported_at=None).order_by("pk").first()
    )
    if assignment is None:
        raise Conflict(f"unit {task.scope} holds no open assignment of {petition.number}")
    assignment.report, assignment.reported_at = str(data["report"]).strip(), timezone.now()
    assignment.save(update_fields=["report", "reported_at"])
    _record(petition, actor=user, change="unit_reported", unit=task.scope)
    return {"last_report_unit": task.scope}


def on_extension_approval(*, task, instance, user, data: dict) -> dict:
    petition = _petition_of(instance)
    decision = data.get("decision")
    if decision not in ("approved", "refused"):
        raise InvalidInput("approve or refuse the extension", {"decision": ["approved or refused"]})
    approved = decision == "approved"
    variables = instance.variables
    days = int(variables.get("extension_days") or 0)
    if approved:
        reason = str(variables.get("extension_reason") or "")
        petition.extend(days=days, reason=reason, approved_by=user)
        petition.reply_due = petition.reply_due + timedelta(days=days)
        petition.save()
        _record(petition, actor=user, change="extension_approved", days=days)
        return {"reply_due": petition.reply_due.isoformat(), "action": "extended"}
    _required(data, "comment")
    _record(petition, actor=user, change="extension_refused", comment=data["comment"])
    return {"action": "extension_refused"}


def on_reply(*, task, instance, user, data: dict) -> dict:
    _required(data, "reply_text", "delivered_on")
    petition = _petition_of(instance)
    delivered = _date(data["delivered_on"], "delivered_on")
    petition.reply(text=str(data["reply_text"]).strip(), delivered_on=delivered)
    petition.save()
    _record(petition, actor=user, change="replied", delivered_on=delivered.isoformat())
    window = _end_of_day(delivered + timedelta(days=conf.get("REVIEW_REQUEST_DAYS")))
    return {"review_window_end": window.isoformat()}


def on_review_answer(*, task, instance, user, data: dict) -> dict:
    _required(data, "answer", "delivered_on")
    petition = _petition_of(instance)
    delivered = _date(data["delivered_on"], "delivered_on")
    petition.answer_review(text=str(data["answer"]).strip())
    petition.save()
    _record(petition, actor=user, change="review_answered", delivered_on=delivered.isoformat())
    window = _end_of_day(delivered + timedelta(days=conf.get("REVIEW_REQUEST_DAYS")))
    return {"re_review_window_end": window.isoformat()}


def on_re_review_answer(*, task, instance, user, data: dict) -> dict:
    _required(data, "answer")
    petition = _petition_of(instance)
    petition.answer_re_review(text=str(data["answer"]).strip())
    petition.save()
    _record(petition, actor=user, change="re_review_answered", final=True)
    return {"final": True}


def on_close(*, task, instance, user, data: dict) -> dict:
    satisfaction = data.get("satisfaction") or Satisfaction.UNKNOWN
    if satisfaction not in Satisfaction.values:
        raise InvalidInput(
            "unknown satisfaction", {"satisfaction": [f"one of {', '.join(Satisfaction.values)}"]}
        )
    petition = _petition_of(instance)
    if petition.state == PetitionState.ACCEPTED:
        raise Conflict(f"petition {petition.number} has not been replied to")
    petition.close(satisfaction=satisfaction)
    petition.save()
    _record(petition, actor=user, change="closed", satisfaction=satisfaction)
    return {"satisfaction": satisfaction}


def on_supervision(*, task, instance, user, data: dict) -> dict:
    _required(data, "instruction")
    petition = _petition_of(instance)
    _record(petition, actor=user, change="supervised", instruction=data["instruction"])
    return {"supervision": str(data["instruction"])}


def _date(value, field: str) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise InvalidInput(f"{field} must be a date", {field: ["a date like 2025-03-31"]}) from None


# --- the petitioner asks for review / re-review ----------------------------------------------


def petition_request_review(*, petition: Petition, user) -> Petition:
    """The petitioner asks for a review (复查) of the written reply; the first receiver logs it."""
    return _request(
        petition,
        user,
        state=PetitionState.REPLIED,
        message="petition_review_requested",
        transition="request_review",
        due_variable="review_answer_due",
    )


def petition_request_re_review(*, petition: Petition, user) -> Petition:
    return _request(
        petition,
        user,
        state=PetitionState.REVIEWED,
        message="petition_re_review_requested",
        transition="request_re_review",
        due_variable="re_review_answer_due",
    )


def _request(petition, user, *, state, message, transition, due_variable) -> Petition:
    from .selectors import can_work_petition

    if not can_work_petition(user, petition):
        raise NotAllowed("only the first receiver or the petition office can log this request")
    with transaction.atomic():
        petition = Petition.objects.select_for_update().get(pk=petition.pk)
        if petition.state != state:
            raise Conflict(f"petition {petition.number} is {petition.get_state_display()}")
        getattr(petition, transition)()
        petition.save()
        due = _days_after(timezone.now(), conf.get("REVIEW_ANSWER_DAYS"))
        _record(petition, actor=user, change=transition)
        message_send(
            name=message,
            correlation_key=petition.number,
            payload={due_variable: due.isoformat()},
            user=user,
        )
    return petition
