"""The county's approval of the fitting plan, and the subsidy it grants.

The subsidy is decided by the diagram's DMN decision tables (``processes/dmn/``), run by the
engine right after the approval: per plan line the catalogue ceiling (``device_item_subsidy``),
then a child's yearly cap (``device_child_cap``). The approval hook gives them their inputs —
the plan in fen, whether the applicant is a child, what is left of the child's cap this year —
under a lock on the person, so two approvals for the same child cannot both spend the same
cap; the ``devices_record_subsidy`` handler then writes the decision to the application in the
same transaction."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from registry.models import Person
from workflows.exceptions import InvalidInput

from .. import conf
from ..models import ApplicationState, PlanItem
from ..money import from_fen, to_fen, yuan
from . import rules
from .common import (
    application_of,
    choice,
    due_dates,
    fsm,
    locked_application,
    record,
    require_state,
    required_text,
)

APPROVAL_DECISIONS = {"approve": "批准", "revise": "退回评估机构修改方案", "reject": "不予补贴"}


def plan_for_decision(application) -> list[dict]:
    """The plan as the DMN tables read it: whole fen, the ceiling in force today."""
    items = application.plan_items.select_related("device").order_by("line")
    return [
        {
            "line": item.line,
            "device_code": item.device.code,
            "device_name": item.device.name,
            "category": item.device.category,
            "quantity": item.quantity,
            "unit_price_fen": to_fen(item.unit_price),
            "ceiling_fen": to_fen(item.device.ceiling),
        }
        for item in items
    ]


def on_approval(*, task, instance, user, data: dict) -> dict:
    application = application_of(instance)
    decision = choice(data, "decision", APPROVAL_DECISIONS)
    opinion = required_text(data, "opinion")
    if decision == "revise":
        fsm(application, application.send_back_for_revision)
        application.save()
        record(application, actor=user, change="sent_back_for_revision", opinion=opinion)
        return {"decision": decision, "opinion": opinion, **due_dates("record_assessment")}
    if decision == "reject":
        reason = required_text(data, "reject_reason")
        fsm(application, lambda: application.reject(reason=reason))
        application.save()
        record(application, actor=user, change="approval_rejected", reason=reason)
        return {"decision": decision, "opinion": opinion, "reject_reason": reason}
    require_state(application, ApplicationState.APPROVAL)
    plan = plan_for_decision(application)
    if not plan:
        raise InvalidInput(_("The plan has no devices; send it back to the assessor."))
    # The person's row is the lock every approval for this person takes: the cap left is read
    # and spent (by the handler, below) before another approval for the same child can read it.
    Person.objects.select_for_update().filter(pk=application.person_id).exists()
    now = timezone.now()
    remaining = 0
    if application.is_child:
        year = timezone.localtime(now).year
        used = rules.cap_used(application.person, year, exclude=application.pk)
        remaining = max(to_fen(conf.child_yearly_cap() - used), 0)
    return {
        "decision": decision,
        "opinion": opinion,
        "approved_by": user.get_username(),
        "approved_at": now.isoformat(),
        "plan_items": plan,
        "is_child": application.is_child,
        "cap_remaining_fen": remaining,
        **due_dates("choose_provider"),
    }


@transaction.atomic
def record_subsidy(variables: dict) -> dict:
    """Service task ``devices_record_subsidy``: write the DMN decision to the application and
    approve it. Idempotent: an application already past approval is left as it is (a replay
    runs this again)."""
    application = locked_application(int(variables["application_id"]))
    items = {i["line"]: i for i in variables.get("plan_items") or []}
    result = {
        "subsidy_granted": yuan(from_fen(variables["granted_fen"])),
        "cap_excess": yuan(from_fen(variables["cap_excess_fen"])),
        "self_pay": yuan(from_fen(variables["self_pay_fen"] + variables["cap_excess_fen"])),
    }
    if application.state != ApplicationState.APPROVAL:
        return result
    plan = list(application.plan_items.order_by("line"))
    for line in plan:
        decided = items[line.line]
        line.ceiling = from_fen(decided["ceiling_fen"])
        line.subsidy = from_fen(decided["subsidy_fen"])
        line.self_pay = from_fen(decided["self_pay_fen"])
        line.rule = decided.get("subsidy_rule", "")
    PlanItem.objects.bulk_update(plan, ["ceiling", "subsidy", "self_pay", "rule"])
    application.price_total = sum((line.price for line in plan), start=from_fen(0))
    application.subsidy_by_ceiling = from_fen(variables["requested_fen"])
    application.subsidy_granted = from_fen(variables["granted_fen"])
    application.cap_excess = from_fen(variables["cap_excess_fen"])
    application.self_pay = from_fen(variables["self_pay_fen"] + variables["cap_excess_fen"])
    approver = get_user_model().objects.get(username=variables["approved_by"])
    approved_at = datetime.fromisoformat(variables["approved_at"])
    application.approve(by=approver, at=approved_at)
    application.save()
    record(
        application,
        actor=approver,
        change="approved",
        price=str(application.price_total),
        subsidy_by_ceiling=str(application.subsidy_by_ceiling),
        subsidy_granted=str(application.subsidy_granted),
        cap_excess=str(application.cap_excess),
        self_pay=str(application.self_pay),
        child=application.is_child,
    )
    return result
