"""Petition services: registration, and the rules applied when each step's task is completed.

Every step is a user task of ``petition_first_receiver.bpmn``; its form key names a completion
hook below, so the same rules hold whether the task is completed in the portal or the API.
Every change of the petition is appended to the petition's own audit chain.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
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
from .selectors import final_petitions_like, handling_units

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
    required = gettext("This field is required.")
    missing = {n: [required] for n in names if not str(data.get(n) or "").strip()}
    if missing:
        raise InvalidInput(gettext("Some required fields are empty."), missing)
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
        message = gettext("Choose how the petition was received: %(options)s.") % {
            "options": "、".join(str(label) for label in Channel.labels)
        }
        raise InvalidInput(message, {"channel": [message]})
    id_number = _petitioner_id(petitioner_id_number)
    received_at = received_at or timezone.now()
    unit = receiving_unit if receiving_unit is not None else resolver().home_scope(user)
    if not unit:
        raise NotAllowed(gettext("Only staff of a federation unit can register petitions."))
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
        raise NotAllowed(gettext("A petition is registered by the staff member who received it."))
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
            conflict=gettext("Petition %(number)s is %(state)s.")
            % {"number": petition.number, "state": petition.get_state_display()},
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
        message = gettext(
            "Choose a decision: accept, not within our remit, or answered on the spot."
        )
        raise InvalidInput(message, {"decision": [message]})
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
        raw = data.get("units") or []  # the form's taglist: unit codes
        units = list(dict.fromkeys(str(u).strip() for u in raw if str(u).strip()))
        if not units:
            message = gettext("Choose at least one handling unit.")
            raise InvalidInput(message, {"units": [message]})
        known = {u.code for u in handling_units()}
        unknown = [u for u in units if u not in known]
        if unknown:
            # A code that is no unit would leave the case waiting for nobody while its
            # 60-day clock runs.
            message = gettext("%(codes)s: no such handling unit; choose from the list.") % {
                "codes": "、".join(unknown[:5])
            }
            raise InvalidInput(message, {"units": [message]})
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
    message = gettext(
        "Choose what happens next: hand to units, ask for an extension, or reply in writing."
    )
    raise InvalidInput(message, {"action": [message]})


def _require_extension_allowed(petition: Petition, data: dict) -> None:
    _required(data, "extension_days", "reason")
    if petition.extension_days:
        raise Conflict(
            gettext("Petition %(number)s was extended once already.") % {"number": petition.number}
        )
    try:
        days = int(data["extension_days"])
    except (TypeError, ValueError):
        message = gettext("The extension is a number of days.")
        raise InvalidInput(message, {"extension_days": [message]}) from None
    limit = conf.get("EXTENSION_MAX_DAYS")
    if not 1 <= days <= limit:
        message = gettext("An extension is 1 to %(limit)s days.") % {"limit": limit}
        raise InvalidInput(message, {"extension_days": [message]})


def on_unit_report(*, task: HumanTask, instance, user, data: dict) -> dict:
    _required(data, "report")
    petition = _petition_of(instance)
    assignment = (
        petition.assignments.filter(unit=task.scope, reported_at=None).order_by("pk").first()
    )
    if assignment is None:
        raise Conflict(
            gettext("Petition %(number)s is not open for a report from this unit.")
            % {"number": petition.number}
        )
    assignment.report, assignment.reported_at = str(data["report"]).strip(), timezone.now()
    assignment.save(update_fields=["report", "reported_at"])
    _record(petition, actor=user, change="unit_reported", unit=task.scope)
    return {"last_report_unit": task.scope}


def on_extension_approval(*, task, instance, user, data: dict) -> dict:
    petition = _petition_of(instance)
    decision = data.get("decision")
    if decision not in ("approved", "refused"):
        message = gettext("Approve or refuse the extension.")
        raise InvalidInput(message, {"decision": [message]})
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
        message = gettext("Choose the petitioner's satisfaction: %(options)s.") % {
            "options": "、".join(str(label) for label in Satisfaction.labels)
        }
        raise InvalidInput(message, {"satisfaction": [message]})
    petition = _petition_of(instance)
    if petition.state == PetitionState.ACCEPTED:
        raise Conflict(
            gettext("Petition %(number)s has not been replied to.") % {"number": petition.number}
        )
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
        message = gettext("Enter a date like 2025-03-31.")
        raise InvalidInput(message, {field: [message]}) from None


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
        raise NotAllowed(
            gettext("Only the first receiver or the petition office can log this request.")
        )
    with transaction.atomic():
        petition = Petition.objects.select_for_update().get(pk=petition.pk)
        if petition.state != state:
            raise Conflict(
                gettext("Petition %(number)s is %(state)s.")
                % {"number": petition.number, "state": petition.get_state_display()}
            )
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
