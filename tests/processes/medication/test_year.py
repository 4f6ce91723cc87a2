"""A whole year on a small county, through the services and the engine: start, survey,
reference files, comparison, township review, county and finance approval, payout with one
failed payment and its follow-up batch, and the closing report."""

from __future__ import annotations

from decimal import Decimal

import pytest

from processes.medication.models import (
    BatchKind,
    CycleState,
    EntrySource,
    EntryState,
    FlagKind,
    LineState,
    MedicationCycle,
    PayoutLine,
)
from processes.medication.services.payout import bank_return_apply, entry_correct_account
from processes.medication.services.reference import reference_upload
from processes.medication.services.review import entries_bulk_approve, entry_decide
from processes.medication.services.survey import survey_add
from workflows.models import InstanceState
from workflows.services.instances import instance_start

from .conftest import (
    TOWNSHIP_A,
    TOWNSHIP_B,
    complete,
    last_year_paid,
    open_tasks,
    run_jobs,
    upload,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("every_case_replays", "a_new_process_each_step"),
]


def bank_file(batch, *, failing=(), name="回盘.csv"):
    rows = [["姓名", "公民身份号码", "银行卡号", "金额", "摘要", "结果", "失败原因"]]
    for line in batch.lines.order_by("pk"):
        failed = line.citizen_id in failing
        rows.append(
            [
                line.name,
                line.citizen_id,
                line.card_number,
                f"{line.amount:.2f}",
                line.memo,
                "失败" if failed else "成功",
                "账户已销户" if failed else "",
            ]
        )
    return upload(name, rows)


def test_a_whole_year_from_start_to_the_closing_report(
    clock, county_people, county_clerk, township_a, township_b, finance_clerk
):
    everyone = county_people["eligible"] + list(county_people["flagged"].values())
    last_year_paid(everyone[:-1])  # the last flagged person is not a continuing recipient
    instance = instance_start(
        process_key="medication_subsidy_cycle", user=county_clerk, variables={"amount": 1000}
    )
    cycle = MedicationCycle.objects.get(year=2025)
    assert cycle.instance == instance
    assert cycle.entries.filter(source=EntrySource.CONTINUING).count() == len(everyone) - 1
    assert sorted(t.scope for t in open_tasks(instance, "survey")) == [TOWNSHIP_A, TOWNSHIP_B]

    # Survey: township A adds a new applicant and the continuing one who is also listed.
    new = survey_add(
        user=township_a,
        cycle_id=cycle.pk,
        township_code=TOWNSHIP_A,
        citizen_id=everyone[-1].citizen_id,
    )
    assert [c["kind"] for c in new.survey_check] == [FlagKind.NO_CARD]
    complete(instance, "survey", township_a, scope=TOWNSHIP_A)
    complete(instance, "survey", township_b, scope=TOWNSHIP_B)
    deaths = upload(
        "死亡名单.csv",
        [
            ["姓名", "公民身份号码", "死亡日期"],
            [everyone[0].name, everyone[0].citizen_id, "2024-12-01"],
        ],
    )
    reference_upload(user=county_clerk, cycle_id=cycle.pk, kind="deaths", upload=deaths)
    complete(instance, "reference_data", county_clerk)
    assert run_jobs() == 1
    cycle.refresh_from_db()
    assert cycle.state == CycleState.REVIEWING
    assert cycle.comparison["flagged"] >= 9

    # Review: bulk approve the unflagged rows, reject every flagged one with a reason.
    for code, user in ((TOWNSHIP_A, township_a), (TOWNSHIP_B, township_b)):
        entries_bulk_approve(user=user, cycle_id=cycle.pk, township_code=code)
        for entry in cycle.entries.filter(township__code=code, state=EntryState.COMPARED):
            entry_decide(user=user, entry_id=entry.pk, decision="reject", reason="不符合条件")
        complete(instance, "township_review", user, scope=code)
    complete(instance, "county_approval", county_clerk, decision="approve")
    cycle.refresh_from_db()
    assert cycle.county_approved_persons == 7 and cycle.county_approved_total == Decimal("7000")
    complete(
        instance, "finance_approval", finance_clerk, decision="approve", confirmed_total="7000.00"
    )
    assert run_jobs() == 1
    batch = cycle.batches.get()
    assert (batch.line_count, batch.total, batch.kind) == (7, Decimal("7000.00"), BatchKind.INITIAL)

    failing = everyone[1].citizen_id
    bank_return_apply(
        user=county_clerk, batch_id=batch.pk, upload=bank_file(batch, failing=[failing])
    )
    complete(instance, "bank_return", county_clerk)
    entry = cycle.entries.get(person=everyone[1])
    assert entry.state == EntryState.PAYMENT_FAILED
    entry_correct_account(
        user=township_a, entry_id=entry.pk, kind="bank_card", number="6228480099990001"
    )
    complete(instance, "account_correction", township_a, scope=TOWNSHIP_A)
    assert run_jobs() == 1
    follow_up = cycle.batches.get(number=2)
    assert follow_up.line_count == 1 and follow_up.kind == BatchKind.FOLLOW_UP
    bank_return_apply(user=county_clerk, batch_id=follow_up.pk, upload=bank_file(follow_up))
    complete(instance, "bank_return", county_clerk)
    assert run_jobs() == 1
    complete(instance, "cycle_report", county_clerk)
    instance.refresh_from_db()
    cycle.refresh_from_db()
    assert instance.state == InstanceState.COMPLETED
    assert cycle.state == CycleState.CLOSED
    assert cycle.report["total"]["paid"] == 7
    assert cycle.report["total"]["paid_amount"] == "7000.00"
    assert PayoutLine.objects.filter(state=LineState.PAID).count() == 7
    assert len(instance.serialized_state) < 100_000
