"""Who may see an application: federation staff of the person's place (village, township,
county), whoever registered it, and the assessment and service institutions it is assigned
to — their assessors and providers hold their roles on the institution's org unit
(django-guardian permissions, see registry.scopes), and see only those cases."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from workflows.services.access import grants_for, reads_everything

from .models import DeviceApplication, SettlementStatement

INSTITUTION_FIELDS = {
    "assessor": "assessment_institution__path",
    "provider": "service_institution__path",
}


def _reach(user) -> Q | None:
    """None: everything. Otherwise the applications the user's grants reach."""
    grants = grants_for(user)
    if reads_everything(user, grants):
        return None
    reach = Q(registered_by=user)
    for grant in grants:
        institution_field = INSTITUTION_FIELDS.get(grant.role)
        if institution_field:
            reach |= Q(**{f"{institution_field}__startswith": grant.path})
        else:
            reach |= Q(household_unit__path__startswith=grant.path)
    return reach


def applications_for_user(*, user, search: str = "", state: str = "") -> QuerySet:
    applications = DeviceApplication.objects.select_related(
        "person", "household_unit", "assessment_institution", "service_institution"
    ).order_by("-registered_at", "-pk")
    reach = _reach(user)
    if reach is not None:
        applications = applications.filter(reach)
    if search:
        applications = applications.filter(
            Q(number__icontains=search) | Q(person__name__icontains=search)
        )
    if state:
        applications = applications.filter(state=state)
    return applications


def can_read_application(user, application: DeviceApplication) -> bool:
    reach = _reach(user)
    if reach is None:
        return True
    return DeviceApplication.objects.filter(reach, pk=application.pk).exists()


def application_for_user(*, user, pk: int) -> DeviceApplication | None:
    """The application if the user may see it; None otherwise (a 404, never a hint)."""
    return applications_for_user(user=user).filter(pk=pk).first()


def can_read_device_instance(user, instance) -> bool:
    """The read guard of the procedure's cases (registered in handlers.py)."""
    if instance.started_by_id == user.pk:
        return True
    application = DeviceApplication.objects.filter(instance=instance).first()
    return application is not None and can_read_application(user, application)


def visible_device_instances(user):
    return applications_for_user(user=user).values("instance_id")


def statements_for_user(*, user) -> QuerySet:
    """County staff and finance see every statement; a provider its own institution's."""
    from . import conf

    statements = SettlementStatement.objects.select_related("institution")
    grants = grants_for(user)
    if reads_everything(user, grants):
        return statements
    reach = Q(pk__in=[])
    for grant in grants:
        if grant.role in conf.get("SETTLEMENT_ROLES"):
            return statements
        if grant.role == "provider":
            reach |= Q(institution__path__startswith=grant.path)
    return statements.filter(reach)


# --- what the step forms offer to choose from (never stored in the case) ----------------------


def catalogue_options() -> list[dict]:
    from .models import Device
    from .money import yuan

    return [
        {"value": d.code, "label": f"{d.name}（{d.code}，限额 {yuan(d.ceiling)} 元）"}
        for d in Device.objects.filter(is_active=True).order_by("code")
    ]


def assessment_institution_options() -> list[dict]:
    from .services.rules import assessment_institutions

    return [{"value": i.code, "label": i.name} for i in assessment_institutions()]


def provider_options(application: DeviceApplication, day) -> list[dict]:
    """Institutions whose agreements in force on ``day`` cover every category of the plan."""
    from .services.procurement import plan_categories
    from .services.rules import providers_for

    return [
        {
            "value": p.institution.code,
            "label": f"{p.institution.name}（{'、'.join(a.number for a in p.agreements)}）",
        }
        for p in providers_for(plan_categories(application), day)
    ]


def plan_as_entered(application: DeviceApplication) -> list[dict]:
    """The current plan in the assessment form's shape (to revise it)."""
    return [
        {
            "device_code": item.device.code,
            "quantity": item.quantity,
            "unit_price": float(item.unit_price),
            "specification": item.specification,
        }
        for item in application.plan_items.select_related("device").order_by("line")
    ]
