"""Procurement: the county chooses a service institution whose agreements in force cover every
category of the plan on that day, and a purchase order goes to it."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from registry.models import OrgUnit
from workflows.exceptions import InvalidInput

from ..models import DeviceCategory, PurchaseOrder
from . import rules
from .common import application_of, assign_after_commit, fsm, record


def plan_categories(application) -> set[str]:
    return set(application.plan_items.values_list("device__category", flat=True))


def _refusal(code: str, categories: set[str], day) -> InvalidInput:
    institution = OrgUnit.objects.filter(code=code).first()
    names = "、".join(str(DeviceCategory(c).label) for c in sorted(categories))
    if institution is None:
        message = _("Choose a service institution.")
    else:
        message = _(
            "%(institution)s holds no service agreement in force on %(day)s that covers "
            "the plan's categories (%(categories)s)."
        ) % {"institution": institution.name, "day": day.isoformat(), "categories": names}
    return InvalidInput(message, {"service_institution": [message]})


def on_procurement(*, task, instance, user, data: dict) -> dict:
    application = application_of(instance)
    code = str(data.get("service_institution") or "").strip()
    today = timezone.localdate()
    categories = plan_categories(application)
    provider = rules.provider_for(code, categories, today) if code else None
    if provider is None:
        raise _refusal(code, categories, today)
    fsm(application, lambda: application.order(institution=provider.institution))
    application.save()
    order = PurchaseOrder.objects.create(
        number=f"CG{today.year}-{application.pk:06d}",
        application=application,
        institution=provider.institution,
        agreements=[a.number for a in provider.agreements],
        price_total=application.price_total,
        subsidy=application.subsidy_granted,
        self_pay=application.self_pay,
        issued_by=user,
    )
    assign_after_commit(application, provider.institution)
    record(
        application,
        actor=user,
        change="ordered",
        order=order.number,
        institution=code,
        agreements=order.agreements,
    )
    return {
        "service_institution": code,
        "service_institution_name": provider.institution.name,
        "order_number": order.number,
    }
