"""Township review, county approval and finance approval of the cycle's list.

A township decides every row of its list (flagged rows one by one with a reason, unflagged
rows in bulk) and submits it; the county approves the consolidated list or returns one
township's list; the finance bureau approves the totals or returns them to the county. Bulk
steps are one UPDATE each, recorded as one audit event that lists the entries."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from workflows.exceptions import Conflict, InvalidInput, NotFound

from .. import files
from ..models import (
    CycleState,
    EntryState,
    MedicationEntry,
    TownshipList,
    TownshipListState,
)
from .common import (
    cycle_for_instance,
    fsm,
    locked_cycle,
    not_a_township,
    record,
    require_county_staff,
    require_role,
    require_state,
    require_township_staff,
    required_text,
)

REVIEWABLE = [TownshipListState.REVIEWING, TownshipListState.RETURNED]


def _open_list(cycle, township) -> TownshipList:
    township_list = TownshipList.objects.filter(cycle=cycle, township=township).first()
    if township_list is None or township_list.state not in REVIEWABLE:
        raise Conflict(
            _(
                "The list of %(township)s has been submitted; it can change only if the county "
                "returns it."
            )
            % {"township": township.name}
        )
    return township_list


def entry_decide(*, user, entry_id: int, decision: str, reason: str = "") -> MedicationEntry:
    """A township approves or rejects one row of its list. Rejecting needs a reason, and so
    does approving a flagged row (why the flag does not apply)."""
    if decision not in ("approve", "reject"):
        raise InvalidInput(_("Approve or reject."), {"decision": [_("Approve or reject.")]})
    with transaction.atomic():
        found = MedicationEntry.objects.filter(pk=entry_id).values_list("cycle_id", flat=True)
        if not found:
            raise NotFound(_("This row of the list does not exist."))
        cycle = locked_cycle(found[0])
        entry = MedicationEntry.objects.select_related("township").get(pk=entry_id)
        require_township_staff(user, entry.township)
        require_state(cycle, CycleState.REVIEWING)
        _open_list(cycle, entry.township)
        reason = str(reason or "").strip()[:1000]
        if decision == "reject" or entry.flagged:
            message = (
                _("Give the reason for rejecting.")
                if decision == "reject"
                else _("This row is flagged: say why it is approved anyway.")
            )
            reason = required_text(reason, "reason", message)
        before = entry.state
        action = entry.township_approve if decision == "approve" else entry.township_reject
        fsm(
            lambda: action(user=user, reason=reason),
            _("This row is %(state)s; it cannot be decided now.")
            % {"state": entry.get_state_display()},
        )
        entry.save()
        record(
            cycle,
            actor=user,
            change="entry_approved" if decision == "approve" else "entry_rejected",
            entries=[entry.pk],
            township=entry.township.code,
            before=before,
            after=entry.state,
            reason=reason,
        )
    return entry


def entries_bulk_approve(*, user, cycle_id: int, township_code: str) -> int:
    """Approve every undecided, unflagged row of a township's list: one UPDATE, one event."""
    with transaction.atomic():
        cycle = locked_cycle(cycle_id)
        township_list = (
            TownshipList.objects.select_related("township")
            .filter(cycle=cycle, township__code=township_code)
            .first()
        )
        if township_list is None:
            raise not_a_township(cycle, township_code)
        require_township_staff(user, township_list.township)
        require_state(cycle, CycleState.REVIEWING)
        _open_list(cycle, township_list.township)
        rows = cycle.entries.filter(
            township=township_list.township, state=EntryState.COMPARED, flagged=False
        )
        ids = list(rows.order_by("pk").values_list("pk", flat=True))
        rows.update(
            state=EntryState.TOWNSHIP_APPROVED,
            decided_by=user,
            decided_at=timezone.now(),
            decision_reason="",
        )
        record(
            cycle,
            actor=user,
            change="entries_bulk_approved",
            township=township_code,
            before=EntryState.COMPARED,
            after=EntryState.TOWNSHIP_APPROVED,
            count=len(ids),
            entries=ids,
        )
    return len(ids)


def _require_no_double_approval(rows) -> None:
    doubled = (
        rows.filter(state=EntryState.TOWNSHIP_APPROVED)
        .values("person__citizen_id", "person__name")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .order_by("person__citizen_id")
    )
    names = [f"{d['person__name']}（{d['person__citizen_id'][-4:]}）" for d in doubled[:10]]
    if names:
        message = _("Approved more than once (reject the duplicate rows): %(names)s") % {
            "names": "、".join(names)
        }
        raise InvalidInput(message, {"entries": [message]})


def on_township_review(*, task, instance, user, data: dict) -> dict:
    """Completion hook of a township's review (and re-review) task: submit its list. Refused
    while any row is undecided."""
    cycle = cycle_for_instance(instance)
    require_state(cycle, CycleState.REVIEWING)
    township_list = (
        TownshipList.objects.select_related("township")
        .filter(cycle=cycle, township__code=task.scope)
        .first()
    )
    if township_list is None:
        raise not_a_township(cycle, task.scope)
    require_township_staff(user, township_list.township)
    _open_list(cycle, township_list.township)
    rows = cycle.entries.filter(township=township_list.township)
    undecided = rows.filter(state=EntryState.COMPARED).count()
    if undecided:
        message = _(
            "%(n)s row(s) of the list are not reviewed yet: approve or reject each before "
            "submitting."
        ) % {"n": undecided}
        raise InvalidInput(message, {"entries": [message]})
    _require_no_double_approval(rows)
    counts = dict(rows.values_list("state").annotate(n=Count("pk")).order_by())
    township_list.submit(user=user)
    township_list.save()
    record(
        cycle,
        actor=user,
        change="township_submitted",
        township=task.scope,
        approved=counts.get(EntryState.TOWNSHIP_APPROVED, 0),
        rejected=counts.get(EntryState.TOWNSHIP_REJECTED, 0),
        note=str(data.get("note") or "")[:500],
    )
    return {}


def _approved_totals(cycle, state: str) -> tuple[int, Decimal]:
    totals = cycle.entries.filter(state=state).aggregate(n=Count("pk"), total=Sum("amount"))
    return totals["n"], (totals["total"] or Decimal("0.00")).quantize(Decimal("0.01"))


def on_county_approval(*, task, instance, user, data: dict) -> dict:
    """Completion hook of the county's approval: approve the consolidated list, or return one
    township's list with a reason (that township reviews again; the others wait)."""
    cycle = cycle_for_instance(instance)
    require_county_staff(user, cycle)
    require_state(cycle, CycleState.REVIEWING)
    decision = data.get("decision")
    if decision == "return":
        return _county_return(cycle, user, data)
    if decision != "approve":
        message = _("Approve the list or return a township's list.")
        raise InvalidInput(message, {"decision": [message]})
    waiting = cycle.townships.exclude(state=TownshipListState.SUBMITTED).select_related("township")
    if waiting.exists():
        names = "、".join(t.township.name for t in waiting)
        message = _("These townships have not submitted their lists: %(names)s") % {"names": names}
        raise InvalidInput(message, {"decision": [message]})
    undecided = cycle.entries.filter(state=EntryState.COMPARED).count()
    if undecided:
        message = _("%(n)s row(s) are not reviewed; the list cannot be approved.") % {
            "n": undecided
        }
        raise InvalidInput(message, {"decision": [message]})
    _require_no_double_approval(cycle.entries.all())
    approved = cycle.entries.filter(state=EntryState.TOWNSHIP_APPROVED)
    ids = list(approved.order_by("pk").values_list("pk", flat=True))
    persons, total = _approved_totals(cycle, EntryState.TOWNSHIP_APPROVED)
    approved.update(state=EntryState.COUNTY_APPROVED)
    cycle.county_approve(user=user, persons=persons, total=total)
    cycle.save()
    record(
        cycle,
        actor=user,
        change="county_approved",
        before=EntryState.TOWNSHIP_APPROVED,
        after=EntryState.COUNTY_APPROVED,
        persons=persons,
        total=str(total),
        entries=ids,
        note=str(data.get("note") or "")[:500],
    )
    return {
        "county_decision": "approve",
        "county_approved_persons": persons,
        "county_approved_total": str(total),
    }


def _county_return(cycle, user, data: dict) -> dict:
    code = str(data.get("township") or "").strip()
    township_list = (
        TownshipList.objects.select_related("township").filter(cycle=cycle, township__code=code)
    ).first()
    if township_list is None:
        message = _("Choose the township whose list goes back.")
        raise InvalidInput(message, {"township": [message]})
    reason = required_text(data.get("reason"), "reason", _("Give the reason for returning."))
    fsm(
        lambda: township_list.send_back(reason=reason),
        _("The list of %(township)s is not submitted; it cannot be returned.")
        % {"township": township_list.township.name},
    )
    township_list.save()
    record(cycle, actor=user, change="township_returned", township=code, reason=reason)
    return {"county_decision": "return", "returned_township": code, "return_reason": reason}


def on_finance_approval(*, task, instance, user, data: dict) -> dict:
    """Completion hook of the finance bureau's approval. Approving names the total approved,
    which must equal the sum of the list's lines; returning needs a reason."""
    cycle = cycle_for_instance(instance)
    require_role(
        user,
        "FINANCE_ROLE",
        cycle.county,
        _("Only the finance bureau approves the subsidy's funds."),
    )
    require_state(cycle, CycleState.COUNTY_APPROVED)
    decision = data.get("decision")
    approved = cycle.entries.filter(state=EntryState.COUNTY_APPROVED)
    if decision == "return":
        reason = required_text(data.get("reason"), "reason", _("Give the reason for returning."))
        ids = list(approved.order_by("pk").values_list("pk", flat=True))
        approved.update(state=EntryState.TOWNSHIP_APPROVED)
        cycle.finance_return(reason=reason)
        cycle.save()
        record(
            cycle,
            actor=user,
            change="finance_returned",
            before=EntryState.COUNTY_APPROVED,
            after=EntryState.TOWNSHIP_APPROVED,
            reason=reason,
            entries=ids,
        )
        return {"finance_decision": "return", "finance_return_reason": reason}
    if decision != "approve":
        message = _("Approve the funds or return the list to the county.")
        raise InvalidInput(message, {"decision": [message]})
    persons, total = _approved_totals(cycle, EntryState.COUNTY_APPROVED)
    if persons != cycle.county_approved_persons or total != cycle.county_approved_total:
        raise Conflict(_("The list changed after the county approved it; ask the county."))
    try:
        confirmed = files.money(data.get("confirmed_total"))
    except ValueError:
        confirmed = None
    if confirmed != total:
        message = _(
            "The total approved (%(confirmed)s yuan) does not match the list: %(persons)s "
            "persons, %(total)s yuan."
        ) % {"confirmed": data.get("confirmed_total") or "—", "persons": persons, "total": total}
        raise InvalidInput(message, {"confirmed_total": [message]})
    ids = list(approved.order_by("pk").values_list("pk", flat=True))
    approved.update(state=EntryState.FINANCE_APPROVED)
    cycle.finance_approve(user=user, total=total)
    cycle.save()
    record(
        cycle,
        actor=user,
        change="finance_approved",
        before=EntryState.COUNTY_APPROVED,
        after=EntryState.FINANCE_APPROVED,
        persons=persons,
        total=str(total),
        entries=ids,
    )
    return {"finance_decision": "approve", "finance_approved_total": str(total)}
