"""Payout: the bank batch file exactly once, the bank's return file and its bad input, failed
payments corrected and paid in a follow-up batch, never twice; the closing report."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation
from openpyxl import load_workbook

from processes.medication.models import (
    BankReturn,
    BatchState,
    EntryState,
    LineState,
    PayoutBatch,
    PayoutLine,
)
from processes.medication.services.payout import (
    bank_return_apply,
    entry_abandon_payment,
    entry_correct_account,
    payout_batch_create,
)
from processes.medication.services.report import cycle_report_xlsx
from workflows.exceptions import InvalidInput, NotAllowed

from .conftest import TOWNSHIP_A, complete, open_tasks, run_jobs, upload
from .test_year import bank_file

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("every_case_replays")]
RETURN_HEADER = ["姓名", "公民身份号码", "银行卡号", "金额", "摘要", "结果", "失败原因"]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def states(batch) -> list[tuple[str, str]]:
    return list(batch.lines.order_by("pk").values_list("citizen_id", "state"))


def test_the_bank_file_lists_name_id_card_amount_and_memo_in_xlsx_and_csv(year):
    year.paying()
    batch = year.cycle.batches.get()
    assert (batch.number, batch.line_count, batch.total) == (1, 8, Decimal("8000.00"))
    sheet = load_workbook(batch.xlsx_file.open("rb")).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["姓名", "公民身份号码", "银行卡号", "金额", "摘要"]
    line = batch.lines.order_by("pk").first()
    assert rows[1] == [
        line.name,
        line.citizen_id,
        line.card_number,
        1000,
        "2025年困难精神残疾人药费补助",
    ]
    text = batch.csv_file.open("rb").read().decode("utf-8-sig")
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[1] == [line.name, line.citizen_id, line.card_number, "1000.00", line.memo]
    assert len(parsed) == 9 and len(batch.xlsx_sha256) == 64


def test_the_payout_job_run_again_returns_the_same_batch_and_the_database_refuses_a_second_line(
    year,
):
    year.paying()
    batch = year.cycle.batches.get()
    again = payout_batch_create(cycle_id=year.cycle.pk)
    assert again["payout_batch"] == batch.pk and PayoutBatch.objects.count() == 1
    assert PayoutLine.objects.count() == 8
    line = batch.lines.first()
    other = PayoutBatch.objects.create(cycle=year.cycle, number=9, kind="follow_up")
    with pytest.raises(IntegrityError), transaction.atomic():  # the same entry, pending twice
        PayoutLine.objects.create(
            batch=other,
            entry=line.entry,
            cycle=year.cycle,
            person=line.person,
            name="x",
            citizen_id=line.citizen_id,
            card_number="1",
            amount=1000,
            memo="x",
        )


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ("stranger", "row 10: 11010519491231002X is not in batch YF2025-01"),
        ("amount", "row 2: the amount 1200.00 differs from the batch's 1000.00"),
        ("card", "row 2: the card number differs from the batch's"),
        ("repeat", "is already in row 2"),
        ("result", "row 2: unknown result '待定' (成功 or 失败)"),
    ],
)
def test_a_return_file_that_does_not_fit_the_batch_is_refused_and_nothing_changes(
    year, change, problem
):
    year.paying()
    batch = year.cycle.batches.get()
    rows = [RETURN_HEADER] + [
        [line.name, line.citizen_id, line.card_number, "1000.00", line.memo, "成功", ""]
        for line in batch.lines.order_by("pk")
    ]
    if change == "stranger":
        rows.append(["陌生人", "11010519491231002X", "6228000011112222", "1000.00", "", "成功", ""])
    elif change == "amount":
        rows[1][3] = "1200.00"
    elif change == "card":
        rows[1][2] = "6228999999999999"
    elif change == "repeat":
        rows.append(rows[1])
    else:
        rows[1][5] = "待定"
    with pytest.raises(InvalidInput) as refused:
        bank_return_apply(user=year.clerk, batch_id=batch.pk, upload=upload("回盘.csv", rows))
    assert problem in refused.value.message
    assert refused.value.message.startswith("The return file was not applied: 1 row(s) do not fit.")
    assert {state for _id, state in states(batch)} == {LineState.PENDING}
    assert not BankReturn.objects.exists()
    assert set(year.cycle.entries.filter(flagged=False).values_list("state", flat=True)) == {
        EntryState.FINANCE_APPROVED
    }


def test_the_same_return_file_twice_changes_nothing_and_says_so(year):
    year.paying()
    batch = year.cycle.batches.get()
    first = bank_return_apply(user=year.clerk, batch_id=batch.pk, upload=bank_file(batch))
    assert (first.paid, first.failed, first.pending) == (8, 0, 0)
    after = states(batch)
    second = bank_return_apply(user=year.clerk, batch_id=batch.pk, upload=bank_file(batch))
    assert second.already_applied
    assert second.message.startswith("This return file was already applied on 2025-01-02")
    assert second.message.endswith("(8 paid, 0 failed); nothing changed.")
    assert states(batch) == after and BankReturn.objects.count() == 1
    # A different file that says a paid line failed is refused: a payment cannot be undone.
    citizen_id = after[0][0]
    with pytest.raises(InvalidInput, match="was already recorded as paid; it cannot change"):
        bank_return_apply(
            user=year.clerk,
            batch_id=batch.pk,
            upload=bank_file(batch, failing=[citizen_id], name="回盘2.csv"),
        )


def test_the_bank_return_task_waits_for_every_result_and_only_county_staff_upload(
    year, township_a, finance_clerk
):
    year.paying()
    batch = year.cycle.batches.get()
    half = [RETURN_HEADER] + [
        [line.name, line.citizen_id, line.card_number, "1000.00", line.memo, "成功", ""]
        for line in batch.lines.order_by("pk")[:3]
    ]
    for user in (township_a, finance_clerk):
        with pytest.raises(NotAllowed):
            bank_return_apply(user=user, batch_id=batch.pk, upload=upload("回盘.csv", half))
    outcome = bank_return_apply(user=year.clerk, batch_id=batch.pk, upload=upload("回盘.csv", half))
    assert (outcome.paid, outcome.pending) == (3, 5)
    with pytest.raises(
        InvalidInput, match="5 payment\\(s\\) of batch YF2025-01 have no result yet"
    ):
        complete(year.instance, "bank_return", year.clerk)
    rest = bank_return_apply(
        user=year.clerk, batch_id=batch.pk, upload=bank_file(batch, name="全部.csv")
    )
    assert (rest.paid, rest.unchanged, rest.pending) == (5, 3, 0)
    batch.refresh_from_db()
    assert batch.state == BatchState.SETTLED


def test_failed_payments_are_corrected_and_paid_once_in_a_follow_up_batch(
    year, township_a, township_b
):
    year.paying()
    batch = year.cycle.batches.get()
    lines = list(batch.lines.select_related("entry__township").order_by("pk"))
    in_a = [line for line in lines if line.entry.township.code == TOWNSHIP_A][:2]
    bank_return_apply(
        user=year.clerk,
        batch_id=batch.pk,
        upload=bank_file(batch, failing=[line.citizen_id for line in in_a]),
    )
    complete(year.instance, "bank_return", year.clerk)
    [correction] = open_tasks(year.instance, "account_correction")
    assert correction.scope == TOWNSHIP_A
    fixed, given_up = (line.entry for line in in_a)
    with pytest.raises(NotAllowed):
        entry_correct_account(
            user=township_b, entry_id=fixed.pk, kind="bank_card", number="62284800123456"
        )
    with pytest.raises(
        InvalidInput, match="failed payment\\(s\\) are neither corrected nor given up"
    ):
        complete(year.instance, "account_correction", township_a, scope=TOWNSHIP_A)
    entry_correct_account(
        user=township_a, entry_id=fixed.pk, kind="bank_card", number="6228 4800 1234 5678"
    )
    entry_abandon_payment(user=township_a, entry_id=given_up.pk, reason="本人已去世")
    complete(year.instance, "account_correction", township_a, scope=TOWNSHIP_A)
    run_jobs()
    follow_up = year.cycle.batches.get(number=2)
    [line] = follow_up.lines.all()
    assert (line.entry_id, line.card_number) == (fixed.pk, "6228480012345678")
    bank_return_apply(user=year.clerk, batch_id=follow_up.pk, upload=bank_file(follow_up))
    complete(year.instance, "bank_return", year.clerk)
    run_jobs()
    year.refresh()
    paid = PayoutLine.objects.filter(state=LineState.PAID)
    assert paid.count() == 7 and paid.values("entry").distinct().count() == 7
    assert year.cycle.report["total"]["paid"] == 7 and year.cycle.report["total"]["failed"] == 1
    assert year.cycle.report["total"]["paid_amount"] == "7000.00"
    assert year.cycle.report["total"]["coverage"] == "87.5%"
    given_up.refresh_from_db()
    assert given_up.state == EntryState.PAYMENT_FAILED and given_up.abandoned_reason == "本人已去世"
    workbook = load_workbook(io.BytesIO(cycle_report_xlsx(year.cycle)))
    assert workbook.sheetnames == ["Summary", "Rejection reasons", "Rejected", "Payment failed"]
    summary = [list(r) for r in workbook["Summary"].iter_rows(values_only=True)]
    total = dict(zip(summary[0], summary[-1], strict=True))
    assert total["Township"] == "Total" and (total["Paid"], total["Payment failed"]) == (7, 1)
    failed = [list(r) for r in workbook["Payment failed"].iter_rows(values_only=True)]
    assert failed[1][3:] == ["账户已销户", "本人已去世"]
    assert "*" in failed[1][2] and failed[1][2] != given_up.person.citizen_id  # masked
    assert len(list(workbook["Rejected"].iter_rows())) == 1 + 8  # header + the flagged rows
