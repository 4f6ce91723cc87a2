"""Wiring the petition procedure into the host: completion hooks and the read guard."""

import functools

from django_fsm import TransitionNotAllowed

from workflows import extensions
from workflows.exceptions import Conflict

from . import services
from .selectors import can_read_petition_instance, visible_petition_instances

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


def _state_conflicts_refused(hook):
    """A step that does not fit the petition's state (e.g. completed twice through the API)
    is a 409, not a crash."""

    @functools.wraps(hook)
    def guarded(**kwargs):
        try:
            return hook(**kwargs)
        except TransitionNotAllowed as exc:
            raise Conflict(f"the petition is not in a state for this step: {exc}") from None

    return guarded


def register() -> None:
    for form_key, hook in COMPLETION_HOOKS.items():
        extensions.register_completion_hook(form_key, _state_conflicts_refused(hook))
    extensions.register_read_guard(
        services.PROCESS_KEY, can_read_petition_instance, visible=visible_petition_instances
    )
    extensions.register_start_service(services.PROCESS_KEY, services.start_from_form)
