"""Wiring the assistive-device procedure into the host: its completion hooks per form key,
service-task handlers, the start service and the read guard."""

from __future__ import annotations

from workflows import extensions

from .selectors import can_read_device_instance, visible_device_instances
from .services import applications, approval, assessment, fitting, procurement, settlement
from .services.common import PROCESS_KEY, stream

COMPLETION_HOOKS = {
    "device_check": applications.on_check,
    "device_supplement": applications.on_supplement,
    "device_assign_assessment": assessment.on_assign_assessment,
    "device_assessment": assessment.on_assessment,
    "device_approval": approval.on_approval,
    "device_procurement": procurement.on_procurement,
    "device_fitting": fitting.on_fitting,
    "device_acceptance": fitting.on_acceptance,
    "device_follow_up": fitting.on_follow_up,
}


def register() -> None:
    for form_key, hook in COMPLETION_HOOKS.items():
        extensions.register_completion_hook(form_key, hook)
    extensions.service_handler("devices_record_subsidy", label="辅具适配：记录补贴核定结果")(
        approval.record_subsidy
    )
    extensions.service_handler(
        "devices_monthly_settlement",
        label="辅具适配：按月结算（生成结算单）",
        asynchronous=True,
        backoff_seconds=300,
    )(settlement.run_monthly_settlement)
    extensions.register_start_service(PROCESS_KEY, applications.start_from_form)
    extensions.register_case_records(PROCESS_KEY, device_case_records)
    extensions.register_record_changes(PROCESS_KEY, RECORD_CHANGES)
    extensions.register_person_search(PROCESS_KEY, applications_about_person)
    extensions.register_read_guard(
        PROCESS_KEY, can_read_device_instance, visible=visible_device_instances
    )


def device_case_records(instance) -> extensions.CaseRecords:
    """The application's own chain, and what the registry recorded about its person meanwhile
    (who looked at the full ID or bank-card number, who changed them)."""
    from registry.selectors.history import registry_events_about

    from .models import DeviceApplication

    application = (
        DeviceApplication.objects.filter(instance=instance).only("pk", "person_id").first()
    )
    if application is None:
        return extensions.CaseRecords()
    return extensions.CaseRecords(
        streams=(stream(application),),
        events=registry_events_about(
            f"person:{application.person_id}", since=instance.created_at, until=instance.ended_at
        ),
    )


def applications_about_person(text: str):
    from django.db.models import Q

    from .models import DeviceApplication

    match = Q(person__name__icontains=text) | Q(person__citizen_id=text.strip().upper())
    return DeviceApplication.objects.filter(match, instance__isnull=False).values("instance_id")


# What each change recorded on the procedure's records is called in the auditors' history.
RECORD_CHANGES = {
    "registered": "登记申请",
    "supplemented": "补正材料",
    "sent_back_for_revision": "退回补正",
    "assessment_assigned": "指派评估机构",
    "assessed": "完成评估",
    "approved": "审批通过",
    "approval_rejected": "审批不通过",
    "ordered": "下达采购",
    "settled": "完成结算",
    "fitted": "完成适配",
    "acceptance": "验收",
    "follow_up": "回访",
}
