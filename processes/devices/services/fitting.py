"""Fitting: the institution delivers, fits and trains; the person (or the officer for them)
confirms acceptance; the institution visits afterwards, and a problem found leads to a repair
or refit or the case is closed."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from workflows.exceptions import InvalidInput
from workflows.models import Attachment, HumanTask

from .. import conf
from ..models import Fitting, FittingKind, FollowUpOutcome, FollowUpVisit
from .common import (
    application_of,
    choice,
    date_field,
    due_dates,
    fsm,
    optional_text,
    record,
    require_own_institution,
    required_text,
)

ACCEPTANCE = {"accepted": "验收合格", "refused": "不予验收（退回机构处理）"}
CONFIRMED_BY = {"person": "本人确认", "guardian": "监护人确认", "officer": "专职委员代为确认"}
FOLLOW_UP = {c.value: str(c.label) for c in FollowUpOutcome}


def _not_in_future(day, field: str):
    if day > timezone.localdate():
        message = _("This date is in the future.")
        raise InvalidInput(message, {field: [message]})
    return day


def on_fitting(*, task: HumanTask, instance, user, data: dict) -> dict:
    """Delivery, fitting and adaptive training (the first fitting, a repair or a refit)."""
    application = application_of(instance)
    require_own_institution(task, application.service_institution, _("fitting"))
    delivered_on = _not_in_future(date_field(data, "delivered_on"), "delivered_on")
    fitting_notes = required_text(data, "fitting_notes")
    training_notes = required_text(data, "training_notes")
    last_visit = application.follow_ups.order_by("-visited_on", "-pk").first()
    if not application.fittings.exists():
        kind = FittingKind.FIRST
    else:
        kind = (
            FittingKind.REPAIR
            if last_visit and last_visit.outcome == "repair"
            else FittingKind.REFIT
        )
    fsm(application, lambda: application.record_fitting(delivered_on=delivered_on))
    application.save()
    fitting = Fitting.objects.create(
        application=application,
        kind=kind,
        delivered_on=delivered_on,
        fitting_notes=fitting_notes,
        training_notes=training_notes,
        serial_numbers=optional_text(data, "serial_numbers", limit=200),
        recorded_by=user,
    )
    record(application, actor=user, change=f"fitted:{kind}", delivered_on=delivered_on.isoformat())
    return {
        "delivered_on": delivered_on.isoformat(),
        "fitting_id": fitting.pk,
        "fitting_kind": kind,
        **due_dates("confirm_acceptance", "confirm_refit"),
    }


def on_acceptance(*, task: HumanTask, instance, user, data: dict) -> dict:
    """The person's acceptance; a photo or the signed form may be attached to the task."""
    application = application_of(instance)
    acceptance = choice(data, "acceptance", ACCEPTANCE)
    confirmed_by = choice(data, "confirmed_by", CONFIRMED_BY)
    note = optional_text(data, "acceptance_note")
    fitting = application.fittings.order_by("-recorded_at", "-pk").first()
    now = timezone.now()
    if acceptance == "refused":
        note = required_text(data, "acceptance_note")
        fsm(application, application.refuse_acceptance)
    else:
        fsm(application, lambda: application.accept(at=now))
    application.save()
    if fitting is not None:
        fitting.accepted = acceptance == "accepted"
        fitting.confirmed_by, fitting.acceptance_note = confirmed_by, note
        fitting.acceptance_recorded_by, fitting.acceptance_recorded_at = user, now
        fitting.save()
    documents = list(Attachment.objects.filter(task=task).values_list("sha256", flat=True))
    record(
        application,
        actor=user,
        change=f"acceptance:{acceptance}",
        confirmed_by=confirmed_by,
        note=note,
        documents=documents,
    )
    follow_up_at = _morning_of(now + timedelta(days=conf.get("FOLLOW_UP_DAYS")))
    return {
        "acceptance": acceptance,
        "confirmed_by": confirmed_by,
        "follow_up_at": follow_up_at.isoformat(),
        **due_dates("follow_up_visit", start=follow_up_at),
    }


def _morning_of(moment: datetime) -> datetime:
    local = timezone.localtime(moment)
    return local.replace(hour=9, minute=0, second=0, microsecond=0)


def on_follow_up(*, task: HumanTask, instance, user, data: dict) -> dict:
    application = application_of(instance)
    require_own_institution(task, application.service_institution, _("follow-up visit"))
    outcome = choice(data, "outcome", FOLLOW_UP)
    visited_on = _not_in_future(date_field(data, "visited_on"), "visited_on")
    findings = required_text(data, "findings")
    FollowUpVisit.objects.create(
        application=application,
        visited_on=visited_on,
        outcome=outcome,
        findings=findings,
        recorded_by=user,
    )
    fsm(application, application.close if outcome == "close" else application.refit)
    application.save()
    record(
        application, actor=user, change=f"follow_up:{outcome}", visited_on=visited_on.isoformat()
    )
    return {"follow_up": outcome, "visited_on": visited_on.isoformat()}
