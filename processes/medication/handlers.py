"""Wiring the medication subsidy into the host: service-task handlers (the comparison, payout
and closing run as background jobs), completion hooks per form key, the start service, and the
form keys the portal's list screens render."""

from __future__ import annotations

from workflows import extensions

from .services import comparison, cycles, payout, report, review, survey
from .services.common import PROCESS_KEY, stream

# Form keys rendered by the portal's own screens (portal/views/medication.py), not .form files.
TASK_VIEWS = {
    "medication_survey": "新增对象摸底",
    "medication_reference_data": "上传比对数据",
    "medication_township_review": "乡镇审核名单",
    "medication_county_approval": "县残联审批名单",
    "medication_finance_approval": "财政审批",
    "medication_bank_return": "上传银行回盘文件",
    "medication_account_correction": "更正发放账户",
    "medication_cycle_report": "年度报告",
}

COMPLETION_HOOKS = {
    "medication_survey": survey.on_survey_submitted,
    "medication_township_review": review.on_township_review,
    "medication_county_approval": review.on_county_approval,
    "medication_finance_approval": review.on_finance_approval,
    "medication_bank_return": payout.on_bank_return,
    "medication_account_correction": payout.on_account_correction,
    "medication_cycle_report": report.on_report_read,
}


def open_cycle(variables: dict) -> dict:
    return cycles.cycle_open(variables=variables)


def compare(variables: dict) -> dict:
    return comparison.cycle_compare(cycle_id=int(variables["cycle_id"]))


def payout_batch(variables: dict) -> dict:
    return payout.payout_batch_create(cycle_id=int(variables["cycle_id"]))


def close_cycle(variables: dict) -> dict:
    return report.cycle_close(cycle_id=int(variables["cycle_id"]))


def register() -> None:
    extensions.service_handler("medication_open_cycle", label="药费补助：开启年度周期")(open_cycle)
    extensions.service_handler(
        "medication_compare", label="药费补助：数据比对", asynchronous=True, backoff_seconds=60
    )(compare)
    extensions.service_handler(
        "medication_payout_batch", label="药费补助：生成银行代发文件", asynchronous=True
    )(payout_batch)
    extensions.service_handler(
        "medication_close_cycle", label="药费补助：年度结算报告", asynchronous=True
    )(close_cycle)
    for form_key, label in TASK_VIEWS.items():
        extensions.register_task_view(form_key, label)
    for form_key, hook in COMPLETION_HOOKS.items():
        extensions.register_completion_hook(form_key, hook)
    extensions.register_case_records(PROCESS_KEY, medication_case_records)
    extensions.register_record_changes(PROCESS_KEY, RECORD_CHANGES)
    extensions.register_person_search(PROCESS_KEY, cycles_listing_person)
    extensions.register_start_service(PROCESS_KEY, cycles.start_from_form)


def medication_case_records(instance) -> extensions.CaseRecords:
    """The cycle's own chain: each stage's decisions, the lists' transitions, the payouts."""
    from .models import MedicationCycle

    cycles = MedicationCycle.objects.filter(instance=instance)
    cycle_id = cycles.values_list("pk", flat=True).first()
    return extensions.CaseRecords(streams=(stream(cycle_id),) if cycle_id else ())


def cycles_listing_person(text: str):
    """The cycles whose lists hold a person matching ``text`` (name or ID number)."""
    from django.db.models import Q

    from .models import MedicationEntry

    match = Q(person__name__icontains=text) | Q(person__citizen_id=text.strip().upper())
    return MedicationEntry.objects.filter(match, cycle__instance__isnull=False).values(
        "cycle__instance_id"
    )


# What each change recorded on the procedure's records is called in the auditors' history.
RECORD_CHANGES = {
    "opened": "开启年度周期",
    "rules_changed": "修改补助规则",
    "applicant_added": "新增对象",
    "applicant_withdrawn": "撤回对象",
    "applicants_imported": "批量导入对象",
    "survey_submitted": "提交摸底名单",
    "reference_uploaded": "上传比对数据",
    "compared": "完成数据比对",
    "township_submitted": "乡镇提交审核",
    "township_returned": "退回乡镇",
    "corrections_submitted": "提交更正",
    "entry_approved": "审核通过",
    "entries_bulk_approved": "批量审核通过",
    "county_approved": "县残联审批",
    "finance_approved": "财政审批通过",
    "finance_returned": "财政退回",
    "batch_prepared": "生成代发文件",
    "bank_return_applied": "导入银行回盘",
    "bank_results_confirmed": "确认发放结果",
    "payment_failed_no_card": "无发放账户未发放",
    "payment_abandoned": "放弃发放",
    "account_corrected": "更正发放账户",
    "report_archived": "年度报告归档",
    "closed": "周期结束",
    "duplicate_start_refused": "拒绝重复开启",
}
