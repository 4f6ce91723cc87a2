"""Wiring the petition procedure into the host: completion hooks and the read guard."""

import functools

from django.utils.translation import gettext
from django_fsm import TransitionNotAllowed

from workflows import extensions
from workflows.exceptions import Conflict

from . import services
from .selectors import (
    can_read_petition_instance,
    handling_unit_options,
    petition_summary,
    visible_petition_instances,
)

COMPLETION_HOOKS = {
    "petition_acceptance": services.on_acceptance,
    "petition_objection_notice": services.on_objection_notice,
    "petition_follow_up": services.on_follow_up,
    "petition_unit_report": services.on_unit_report,
    "petition_extension_approval": services.on_extension_approval,
    "petition_reply": services.on_reply,
    "petition_review_answer": services.on_review_answer,
    "petition_re_review_answer": services.on_re_review_answer,
    "petition_close": services.on_close,
    "petition_supervision": services.on_supervision,
}


# The variables the services compute (no form names them): the first receiver and the
# statutory deadlines, as the auditors' history and the case page show them.
VARIABLE_LABELS = {
    "number": "信访件编号",
    "first_receiver": "首接人",
    "acceptance_due": "受理期限",
    "objection_due": "告知期限",
    "reply_due": "答复期限",
    "review_window_end": "复查申请期限",
    "review_answer_due": "复查答复期限",
    "re_review_window_end": "复核申请期限",
    "re_review_answer_due": "复核答复期限",
}


def _state_conflicts_refused(hook):
    """A step that does not fit the petition's state (e.g. completed twice through the API)
    is a 409, not a crash."""

    @functools.wraps(hook)
    def guarded(**kwargs):
        try:
            return hook(**kwargs)
        except TransitionNotAllowed:
            raise Conflict(
                gettext("The petition is not in a state for this step (it has moved on).")
            ) from None

    return guarded


def register() -> None:
    for form_key, hook in COMPLETION_HOOKS.items():
        extensions.register_completion_hook(form_key, _state_conflicts_refused(hook))
    extensions.register_read_guard(
        services.PROCESS_KEY, can_read_petition_instance, visible=visible_petition_instances
    )
    extensions.register_start_service(services.PROCESS_KEY, services.start_from_form)
    extensions.register_case_records(services.PROCESS_KEY, petition_case_records)
    extensions.register_variable_labels(services.PROCESS_KEY, VARIABLE_LABELS)
    extensions.register_record_changes(services.PROCESS_KEY, RECORD_CHANGES)
    extensions.register_person_search(services.PROCESS_KEY, petitions_about_person)
    extensions.register_case_summary(services.PROCESS_KEY, petition_summary)
    extensions.register_task_data("petition_follow_up", handling_unit_options)


def petition_case_records(instance) -> extensions.CaseRecords:
    """The petition's own chain: its registration, decisions, transfers, extensions, replies."""
    from .models import Petition

    petition_id = Petition.objects.filter(instance=instance).values_list("pk", flat=True).first()
    return extensions.CaseRecords(streams=(f"petition:{petition_id}",) if petition_id else ())


def petitions_about_person(text: str):
    from django.db.models import Q

    from .models import Petition

    match = Q(petitioner_name__icontains=text) | Q(petitioner_id_number=text.strip().upper())
    return Petition.objects.filter(match, instance__isnull=False).values("instance_id")


# What each change recorded on the procedure's records is called in the auditors' history.
RECORD_CHANGES = {
    "registered": "登记信访件",
    "acceptance_decided": "作出受理决定",
    "petitioner_told": "告知信访人",
    "assigned": "转交承办单位",
    "extension_requested": "申请延期",
    "extension_approved": "批准延期",
    "extension_refused": "不予延期",
    "unit_reported": "承办单位反馈",
    "replied": "书面答复",
    "review_answered": "复查答复",
    "re_review_answered": "复核答复",
    "closed": "办结",
    "supervised": "督办",
    "request_review": "申请复查",
    "request_re_review": "申请复核",
}
