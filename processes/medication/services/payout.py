"""Payout (打卡发放): the bank batch file, the bank's return file, account corrections and
follow-up batches. Nobody is paid twice: the batch job is idempotent and the payout lines carry
partial unique constraints (one pending-or-paid line per entry, and per person in a cycle)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from registry.identity import IdentityError
from registry.imports.readers import FileRefused
from registry.models import CardStatus
from registry.services.persons import card_account_set
from workflows.exceptions import Conflict, InvalidInput, NotAllowed, NotFound

from .. import conf, files
from ..models import (
    LIVE_LINE_STATES,
    BankReturn,
    BatchKind,
    BatchState,
    CycleState,
    EntryState,
    LineState,
    MedicationEntry,
    PayoutBatch,
    PayoutLine,
    TownshipList,
)
from .common import (
    chunks,
    cycle_for_instance,
    locked_cycle,
    not_a_township,
    record,
    require_county_staff,
    require_state,
    require_township_staff,
    required_text,
)

RESULT_WORDS = {
    "成功": LineState.PAID,
    "已入账": LineState.PAID,
    "paid": LineState.PAID,
    "失败": LineState.FAILED,
    "退回": LineState.FAILED,
    "failed": LineState.FAILED,
}
MAX_PROBLEMS = 20


def _awaiting_correction(cycle):
    return cycle.entries.filter(
        state=EntryState.PAYMENT_FAILED, retry_requested=False, abandoned_reason=""
    )


def _failure_result(cycle) -> dict:
    waiting = _awaiting_correction(cycle)
    townships = sorted(set(waiting.values_list("township__code", flat=True)))
    return {"failed_count": waiting.count(), "failed_townships": townships}


def _batch_result(batch: PayoutBatch | None, cycle) -> dict:
    result = {
        "payout_batch": batch.pk if batch else None,
        "batch_lines": batch.line_count if batch else 0,
        "batch_total": str(batch.total) if batch else "0.00",
    }
    return {**result, **_failure_result(cycle)}


def _payable(cycle):
    """Approved entries, and failed ones with a corrected account, of persons holding no line
    that is pending or paid in this cycle (the constraints would refuse a second one)."""
    live = PayoutLine.objects.filter(
        cycle=cycle, person=OuterRef("person_id"), state__in=LIVE_LINE_STATES
    )
    return cycle.entries.filter(
        Q(state=EntryState.FINANCE_APPROVED)
        | Q(state=EntryState.PAYMENT_FAILED, retry_requested=True, abandoned_reason="")
    ).exclude(Exists(live))


LINE_FIELDS = (
    "pk",
    "person_id",
    "person__name",
    "person__citizen_id",
    "person__card_account__number",
    "person__card_account__status",
    "person__card_account__bank_name",
    "amount",
    "township__code",
)


def payout_batch_create(*, cycle_id: int) -> dict:
    """The payout job: one bank batch of every payable entry (approved, or failed and corrected)
    with its .xlsx and .csv file. Idempotent: while a batch awaits the bank's results, running
    again returns that batch. Entries without a usable card fail at once (to be corrected)."""
    with transaction.atomic():
        cycle = locked_cycle(cycle_id)
        waiting = cycle.batches.filter(state=BatchState.PREPARED).first()
        if waiting is not None:
            return _batch_result(waiting, cycle)
        if cycle.state == CycleState.FINANCE_APPROVED:
            cycle.start_payout()
            cycle.save()
        if cycle.state != CycleState.PAYING:
            return _batch_result(None, cycle)
        rows = list(_payable(cycle).order_by("township__code", "pk").values_list(*LINE_FIELDS))
        memo = conf.get("MEMO").format(year=cycle.year)
        lines, no_card, seen = [], [], set()
        for pk, person_id, name, citizen_id, number, status, bank, amount, _code in rows:
            if person_id in seen:
                continue  # a person is paid once per cycle even if listed twice
            seen.add(person_id)
            if not number or status != CardStatus.ACTIVE:
                no_card.append(pk)
                continue
            lines.append(
                PayoutLine(
                    entry_id=pk,
                    cycle=cycle,
                    person_id=person_id,
                    name=name,
                    citizen_id=citizen_id,
                    card_number=number,
                    bank_name=bank or "",
                    amount=amount,
                    memo=memo,
                )
            )
        if no_card:
            _fail_without_card(cycle, no_card)
        batch = _new_batch(cycle, lines) if lines else None
    return _batch_result(batch, cycle)


def _fail_without_card(cycle, entry_ids: list[int]) -> None:
    for chunk in chunks(entry_ids, 900):
        cycle.entries.filter(pk__in=chunk).update(
            state=EntryState.PAYMENT_FAILED, retry_requested=False
        )
    record(
        cycle,
        actor=None,
        change="payment_failed_no_card",
        after=EntryState.PAYMENT_FAILED,
        entries=entry_ids,
        reason=_("no valid bank or card account at payout"),
    )


def _new_batch(cycle, lines: list[PayoutLine]) -> PayoutBatch:
    number = (cycle.batches.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    total = sum((line.amount for line in lines), Decimal("0.00"))
    batch = PayoutBatch.objects.create(
        cycle=cycle,
        number=number,
        kind=BatchKind.INITIAL if number == 1 else BatchKind.FOLLOW_UP,
        line_count=len(lines),
        total=total,
    )
    for line in lines:
        line.batch = batch
    for chunk in chunks(lines, 2000):
        PayoutLine.objects.bulk_create(chunk)
    rows = [files.BATCH_HEADERS] + [
        [line.name, line.citizen_id, line.card_number, line.amount, line.memo] for line in lines
    ]
    xlsx = files.xlsx_bytes([(batch.code, rows)])
    csv = files.csv_bytes(rows)
    batch.xlsx_sha256 = hashlib.sha256(xlsx).hexdigest()
    batch.csv_sha256 = hashlib.sha256(csv).hexdigest()
    batch.xlsx_file.save(f"{batch.code}-{batch.xlsx_sha256[:12]}.xlsx", ContentFile(xlsx), False)
    batch.csv_file.save(f"{batch.code}-{batch.csv_sha256[:12]}.csv", ContentFile(csv), False)
    batch.save()
    record(
        cycle,
        actor=None,
        change="batch_prepared",
        batch=batch.code,
        kind=batch.kind,
        lines=len(lines),
        total=str(total),
        xlsx_sha256=batch.xlsx_sha256,
        csv_sha256=batch.csv_sha256,
        entries=[line.entry_id for line in lines],
    )
    return batch


# --- the bank's return file ------------------------------------------------------------------


@dataclass
class ReturnOutcome:
    batch: PayoutBatch
    file_name: str
    already_applied: bool = False
    paid: int = 0
    failed: int = 0
    unchanged: int = 0
    pending: int = 0
    message: str = ""
    problems: list[str] = field(default_factory=list)


def _read_return(stored: files.Upload) -> tuple[list[dict], list[str]]:
    rows, problems = [], []
    try:
        for number, values in stored.rows(files.bank_return_layout()):
            try:
                citizen_id = files.citizen_id(values.get("citizen_id"))
                amount = files.money(values.get("amount"))
            except (IdentityError, ValueError) as exc:
                problems.append(_("row %(row)s: %(problem)s") % {"row": number, "problem": exc})
                continue
            word = files.text(values.get("result"))
            if word not in RESULT_WORDS:
                problems.append(
                    _("row %(row)s: unknown result '%(word)s' (成功 or 失败)")
                    % {"row": number, "word": word}
                )
                continue
            rows.append(
                {
                    "row": number,
                    "citizen_id": citizen_id,
                    "card_number": "".join(files.text(values.get("card_number")).split()),
                    "amount": amount,
                    "result": RESULT_WORDS[word],
                    "reason": files.text(values.get("reason"))[:200],
                }
            )
    except FileRefused as exc:
        raise files.refused(exc) from None
    return rows, problems


def _match(batch: PayoutBatch, rows: list[dict], problems: list[str]) -> list[tuple[dict, tuple]]:
    """Each row with its line; a row naming nobody in the batch, another card or another amount
    is a problem (the whole file is refused then)."""
    lines = {
        line[1]: line
        for line in batch.lines.values_list("pk", "citizen_id", "card_number", "amount", "state")
    }
    matched, seen = [], {}
    for row in rows:
        number, citizen_id = row["row"], row["citizen_id"]
        line = lines.get(citizen_id)
        values = {"row": number, "id": citizen_id, "batch": batch.code}
        if line is None:
            problems.append(_("row %(row)s: %(id)s is not in batch %(batch)s") % values)
        elif citizen_id in seen:
            values["first"] = seen[citizen_id]
            problems.append(_("row %(row)s: %(id)s is already in row %(first)s") % values)
        elif row["amount"] != line[3]:
            values.update(amount=row["amount"], expected=line[3])
            problems.append(
                _("row %(row)s: the amount %(amount)s differs from the batch's %(expected)s")
                % values
            )
        elif row["card_number"] and row["card_number"] != line[2]:
            problems.append(_("row %(row)s: the card number differs from the batch's") % values)
        elif line[4] != LineState.PENDING and line[4] != row["result"]:
            values["state"] = LineState(line[4]).label
            problems.append(
                _("row %(row)s: %(id)s was already recorded as %(state)s; it cannot change")
                % values
            )
        else:
            matched.append((row, line))
        seen.setdefault(citizen_id, number)
    return matched


def bank_return_apply(*, user, batch_id: int, upload) -> ReturnOutcome:
    """Record the bank's results for a batch: paid lines and entries become paid, failed ones
    go back to their township for a corrected account. A file with any row that does not fit
    the batch is refused as a whole; the same file a second time changes nothing and says so."""
    with files.Upload(upload) as stored:
        rows, problems = _read_return(stored)
        with transaction.atomic():
            batch = PayoutBatch.objects.filter(pk=batch_id).select_related("cycle").first()
            if batch is None:
                raise NotFound(_("This payout batch does not exist."))
            cycle = locked_cycle(batch.cycle_id)
            require_county_staff(user, cycle)
            batch = PayoutBatch.objects.get(pk=batch_id)
            outcome = ReturnOutcome(batch=batch, file_name=stored.name)
            earlier = BankReturn.objects.filter(batch=batch, sha256=stored.sha256).first()
            if earlier is not None:
                outcome.already_applied = True
                outcome.message = _(
                    "This return file was already applied on %(day)s (%(paid)s paid, %(failed)s "
                    "failed); nothing changed."
                ) % {
                    "day": timezone.localtime(earlier.uploaded_at).strftime("%Y-%m-%d %H:%M"),
                    "paid": earlier.paid,
                    "failed": earlier.failed,
                }
                return outcome
            require_state(cycle, CycleState.PAYING)
            matched = _match(batch, rows, problems)
            if problems:
                shown = problems[:MAX_PROBLEMS]
                message = _("The return file was not applied: %(n)s row(s) do not fit. ") % {
                    "n": len(problems)
                } + files.joined(shown)
                raise InvalidInput(message, {"file": shown})
            if not matched:
                raise InvalidInput(_("The file has no data rows."), {"file": [_("Empty.")]})
            _apply(cycle, batch, matched, outcome, user=user, stored=stored)
    return outcome


def _settle_lines(batch, paid_ids: list[int], failed, now) -> None:
    """Record the results on the lines: a handful of UPDATEs, not one per line."""
    pending = batch.lines.filter(state=LineState.PENDING)
    failed_ids = [line[0] for _row, line in failed]
    if len(paid_ids) + len(failed_ids) == pending.count():  # the usual case: the whole batch
        pending.exclude(pk__in=failed_ids).update(state=LineState.PAID, settled_at=now)
    else:
        for chunk in chunks(paid_ids, 900):
            pending.filter(pk__in=chunk).update(state=LineState.PAID, settled_at=now)
    by_reason: dict[str, list[int]] = {}
    for row, line in failed:
        by_reason.setdefault(row["reason"] or _("failed"), []).append(line[0])
    for reason, ids in by_reason.items():
        for chunk in chunks(ids, 900):
            pending.filter(pk__in=chunk).update(
                state=LineState.FAILED, settled_at=now, failure_reason=reason
            )


def _settle_entries(batch, now, failed_entries: list[int]) -> None:
    """The entries follow their lines: paid now (one UPDATE with a subquery), or failed."""
    payable = [EntryState.FINANCE_APPROVED, EntryState.PAYMENT_FAILED]
    paid_lines = PayoutLine.objects.filter(batch=batch, state=LineState.PAID, settled_at=now)
    MedicationEntry.objects.filter(pk__in=paid_lines.values("entry_id"), state__in=payable).update(
        state=EntryState.PAID, retry_requested=False
    )
    for chunk in chunks(failed_entries, 900):
        MedicationEntry.objects.filter(pk__in=chunk, state__in=payable).update(
            state=EntryState.PAYMENT_FAILED, retry_requested=False
        )


def _apply(cycle, batch, matched, outcome: ReturnOutcome, *, user, stored) -> None:
    now = timezone.now()
    pending = [(row, line) for row, line in matched if line[4] == LineState.PENDING]
    paid_ids = [line[0] for row, line in pending if row["result"] == LineState.PAID]
    failed = [(row, line) for row, line in pending if row["result"] == LineState.FAILED]
    outcome.unchanged = len(matched) - len(pending)
    _settle_lines(batch, paid_ids, failed, now)
    entry_of = dict(PayoutLine.objects.filter(batch=batch).values_list("pk", "entry_id"))
    paid_entries = [entry_of[pk] for pk in paid_ids]
    failed_entries = [entry_of[line[0]] for _row, line in failed]
    _settle_entries(batch, now, failed_entries)
    outcome.paid, outcome.failed = len(paid_entries), len(failed_entries)
    outcome.pending = batch.lines.filter(state=LineState.PENDING).count()
    if outcome.pending == 0:
        batch.settle()
        batch.save()
    BankReturn.objects.create(
        batch=batch,
        file_name=stored.name,
        sha256=stored.sha256,
        paid=outcome.paid,
        failed=outcome.failed,
        unchanged=outcome.unchanged,
        uploaded_by=user,
    )
    outcome.message = _(
        "%(paid)s paid, %(failed)s failed, %(unchanged)s already recorded; %(pending)s lines "
        "still wait for a result."
    ) % {
        "paid": outcome.paid,
        "failed": outcome.failed,
        "unchanged": outcome.unchanged,
        "pending": outcome.pending,
    }
    record(
        cycle,
        actor=user,
        change="bank_return_applied",
        batch=batch.code,
        file=stored.name,
        sha256=stored.sha256,
        paid=paid_entries,
        failed=failed_entries,
        unchanged=outcome.unchanged,
    )


def on_bank_return(*, task, instance, user, data: dict) -> dict:
    """Completion hook of "upload the bank's return file": every line of the batch has a result."""
    cycle = cycle_for_instance(instance)
    require_county_staff(user, cycle)
    batch = cycle.batches.order_by("-number").first()  # the one awaiting the bank's results
    pending = batch.lines.filter(state=LineState.PENDING).count() if batch else 0
    if pending:
        message = _(
            "%(n)s payment(s) of batch %(batch)s have no result yet: upload the bank's return "
            "file first."
        ) % {"n": pending, "batch": batch.code}
        raise InvalidInput(message, {"file": [message]})
    result = _failure_result(cycle)
    record(cycle, actor=user, change="bank_results_confirmed", batch=batch.code if batch else "")
    return result


# --- failed payments: corrected accounts, or given up ----------------------------------------


def _failed_entry(entry_id: int, user) -> tuple:
    found = MedicationEntry.objects.filter(pk=entry_id).values_list("cycle_id", flat=True)
    if not found:
        raise NotFound(_("This row of the list does not exist."))
    cycle = locked_cycle(found[0])
    entry = MedicationEntry.objects.select_related("township", "person").get(pk=entry_id)
    require_township_staff(user, entry.township)
    require_state(cycle, CycleState.PAYING)
    if entry.state != EntryState.PAYMENT_FAILED or entry.retry_requested or entry.abandoned_reason:
        raise Conflict(_("This payment is not waiting for a correction."))
    return cycle, entry


def entry_correct_account(
    *, user, entry_id: int, kind: str, number: str, bank_name: str = ""
) -> MedicationEntry:
    """A township records the person's correct card account; the entry is paid in the next
    follow-up batch."""
    with transaction.atomic():
        cycle, entry = _failed_entry(entry_id, user)
        card = card_account_set(
            user=user, person=entry.person, kind=kind, number=number, bank_name=bank_name
        )
        entry.retry_requested = True
        entry.save(update_fields=["retry_requested"])
        record(
            cycle,
            actor=user,
            change="account_corrected",
            entries=[entry.pk],
            township=entry.township.code,
            card_last4=card.number[-4:],
        )
    return entry


def entry_abandon_payment(*, user, entry_id: int, reason: str) -> MedicationEntry:
    """A township gives up a failed payment (e.g. the person died), with the reason."""
    reason = required_text(reason, "reason", _("Give the reason."))
    with transaction.atomic():
        cycle, entry = _failed_entry(entry_id, user)
        entry.abandoned_reason = reason
        entry.save(update_fields=["abandoned_reason"])
        record(
            cycle,
            actor=user,
            change="payment_abandoned",
            entries=[entry.pk],
            township=entry.township.code,
            reason=reason,
        )
    return entry


def on_account_correction(*, task, instance, user, data: dict) -> dict:
    """Completion hook of a township's correction task: every failed payment is corrected or
    given up."""
    cycle = cycle_for_instance(instance)
    township_list = (
        TownshipList.objects.select_related("township")
        .filter(cycle=cycle, township__code=task.scope)
        .first()
    )
    if township_list is None:
        raise not_a_township(cycle, task.scope)
    require_township_staff(user, township_list.township)
    left = _awaiting_correction(cycle).filter(township=township_list.township).count()
    if left:
        message = _("%(n)s failed payment(s) are neither corrected nor given up yet.") % {"n": left}
        raise InvalidInput(message, {"entries": [message]})
    township_list.corrections_submitted_at = timezone.now()
    township_list.save(update_fields=["corrections_submitted_at"])
    record(cycle, actor=user, change="corrections_submitted", township=task.scope)
    return {}


def paid_total(cycle) -> Decimal:
    total = PayoutLine.objects.filter(cycle=cycle, state=LineState.PAID).aggregate(t=Sum("amount"))
    return (total["t"] or Decimal("0.00")).quantize(Decimal("0.01"))


def bank_file_open(*, user, batch_id: int, fmt: str):
    """(batch, its stored bank file in ``fmt``) for finance; the file keeps full card numbers,
    so nobody else gets it (the county uploads the bank's return, it needs no download)."""
    from .. import selectors

    batch = PayoutBatch.objects.select_related("cycle__county").filter(pk=batch_id).first()
    if batch is None or fmt not in ("xlsx", "csv"):
        raise NotFound(_("No such file."))
    if not selectors.downloads_bank_files(user, batch.cycle):
        raise NotAllowed(_("Only finance downloads bank files: they hold full card numbers."))
    return batch, batch.xlsx_file if fmt == "xlsx" else batch.csv_file
