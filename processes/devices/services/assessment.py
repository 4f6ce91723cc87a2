"""The assessment: the county assigns an assessment institution; its assessor records the needs
assessment and the fitting plan (catalogue devices, quantities, prices)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from workflows.exceptions import InvalidInput
from workflows.models import HumanTask

from ..models import Device, DeviceApplication, PlanItem
from ..money import parse_yuan
from . import rules
from .common import (
    application_of,
    assign_after_commit,
    due_dates,
    fsm,
    record,
    require_own_institution,
    required_text,
)

MAX_QUANTITY = 10


def on_assign_assessment(*, task, instance, user, data: dict) -> dict:
    application = application_of(instance)
    code = str(data.get("assessment_institution") or "").strip()
    institution = next((i for i in rules.assessment_institutions() if i.code == code), None)
    if institution is None:
        message = _("Choose one of the assessment institutions.")
        raise InvalidInput(message, {"assessment_institution": [message]})
    fsm(application, lambda: application.assign_assessment(institution=institution))
    application.save()
    assign_after_commit(application, institution)
    record(application, actor=user, change="assessment_assigned", institution=code)
    return {
        "assessment_institution": code,
        "assessment_institution_name": institution.name,
        **due_dates("record_assessment"),
    }


def plan_lines(rows) -> list[dict]:
    """The plan as entered (a list of rows: device_code, quantity, unit_price, specification),
    checked row by row; field errors name ``plan.<row>.<field>``."""
    if not isinstance(rows, list) or not rows:
        message = _("Add at least one device to the plan.")
        raise InvalidInput(message, {"plan": [message]})
    codes = [str((r or {}).get("device_code") or "").strip().upper() for r in rows]
    devices = {d.code: d for d in Device.objects.filter(code__in=codes, is_active=True)}
    errors: dict[str, list[str]] = {}
    lines = []
    for index, (row, code) in enumerate(zip(rows, codes, strict=True)):
        row = row if isinstance(row, dict) else {}
        device = devices.get(code)
        if device is None:
            errors[f"plan.{index}.device_code"] = [_("Choose a device from the catalogue.")]
        elif code in codes[:index]:
            errors[f"plan.{index}.device_code"] = [_("This device is in the plan already.")]
        try:
            quantity = int(row.get("quantity"))
        except (TypeError, ValueError):
            quantity = 0
        if not 1 <= quantity <= MAX_QUANTITY:
            errors[f"plan.{index}.quantity"] = [
                _("A whole number from 1 to %(max)s.") % {"max": MAX_QUANTITY}
            ]
        price = parse_yuan(row.get("unit_price"))
        if price is None:
            errors[f"plan.{index}.unit_price"] = [_("A price in yuan, such as 1280 or 1280.50.")]
        spec = str(row.get("specification") or "").strip()[:200]
        lines.append((device, quantity, price, spec))
    if errors:
        raise InvalidInput(_("The plan has errors; see the marked rows."), errors)
    return [
        {"device": d, "quantity": q, "unit_price": p, "specification": s} for d, q, p, s in lines
    ]


def on_assessment(*, task: HumanTask, instance, user, data: dict) -> dict:
    application = application_of(instance)
    require_own_institution(task, application.assessment_institution, _("assessment"))
    text = required_text(data, "assessment")
    lines = plan_lines(data.get("plan"))
    devices = [line["device"] for line in lines]
    problems = rules.usage_period_problems(
        application.person, devices, timezone.localdate(), exclude=application.pk
    )
    if problems:
        raise InvalidInput(" ".join(problems), {"plan": problems})
    fsm(application, lambda: application.record_assessment(text=text, by=user))
    application.save()
    _replace_plan(application, lines)
    record(
        application,
        actor=user,
        change="assessed",
        institution=task.scope,
        plan=[
            {
                "device": x["device"].code,
                "quantity": x["quantity"],
                "unit_price": str(x["unit_price"]),
            }
            for x in lines
        ],
    )
    return {"assessment": text, "plan_lines": len(lines), **due_dates("approve_plan")}


def _replace_plan(application: DeviceApplication, lines: list[dict]) -> None:
    application.plan_items.all().delete()
    PlanItem.objects.bulk_create(
        PlanItem(
            application=application,
            line=index + 1,
            device=line["device"],
            quantity=line["quantity"],
            unit_price=line["unit_price"],
            ceiling=line["device"].ceiling,
            specification=line["specification"],
        )
        for index, line in enumerate(lines)
    )
