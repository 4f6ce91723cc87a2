"""Township review, county approval and finance approval: decisions, returns, refusals, and who
may do what."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from processes.medication import selectors
from processes.medication.models import CycleState, EntryState, TownshipListState
from processes.medication.services.review import entries_bulk_approve, entry_decide
from registry.models import OrgUnit
from tests.registry.factories import COUNTY, VILLAGE_A1
from workflows.exceptions import Conflict, InvalidInput, NotAllowed, NotFound
from workflows.models import AuditEvent, HumanTaskState

from .conftest import TOWNSHIP_A, TOWNSHIP_B, complete, open_tasks, person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def test_flagged_rows_come_first_and_need_a_reason_either_way(year, township_a):
    year.compared()
    cycle, township = year.cycle, year.cycle.townships.get(township__code=TOWNSHIP_A).township
    rows = list(selectors.review_rows(cycle, township))
    assert [r.flagged for r in rows] == sorted((r.flagged for r in rows), reverse=True)
    flagged = rows[0]
    with pytest.raises(InvalidInput, match="This row is flagged: say why it is approved anyway."):
        entry_decide(user=township_a, entry_id=flagged.pk, decision="approve")
    with pytest.raises(InvalidInput, match="Give the reason for rejecting."):
        entry_decide(user=township_a, entry_id=flagged.pk, decision="reject", reason="  ")
    entry = entry_decide(
        user=township_a, entry_id=flagged.pk, decision="approve", reason="已补发证件"
    )
    assert (entry.state, entry.decided_by, entry.decision_reason) == (
        EntryState.TOWNSHIP_APPROVED,
        township_a,
        "已补发证件",
    )
    entry = entry_decide(user=township_a, entry_id=flagged.pk, decision="reject", reason="复核不符")
    assert entry.state == EntryState.TOWNSHIP_REJECTED  # changed its mind before submitting
    events = AuditEvent.objects.filter(
        stream=f"medication:{cycle.pk}", element_id__startswith="entry_"
    )
    assert [(e.actor, e.payload["reason"]) for e in events.order_by("sequence")] == [
        ("township_a", "已补发证件"),
        ("township_a", "复核不符"),
    ]


def test_bulk_approval_is_one_update_and_one_event_listing_the_rows(year, township_a):
    from processes.medication.services.survey import survey_add

    year.start()
    for index in range(30):
        applicant = person(VILLAGE_A1, f"批量{index}")
        survey_add(
            user=township_a,
            cycle_id=year.cycle.pk,
            township_code=TOWNSHIP_A,
            citizen_id=applicant.citizen_id,
        )
    year.compared()
    unflagged = year.cycle.entries.filter(township__code=TOWNSHIP_A, flagged=False)
    ids = sorted(unflagged.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        approved = entries_bulk_approve(
            user=township_a, cycle_id=year.cycle.pk, township_code=TOWNSHIP_A
        )
    assert approved == len(ids) == 35  # five continuing recipients and thirty new applicants
    writes = [q for q in queries if q["sql"].startswith(("UPDATE", "INSERT"))]
    assert len(writes) <= 3  # the rows, the audit event, the chain head
    event = AuditEvent.objects.get(element_id="entries_bulk_approved")
    assert event.payload["entries"] == ids and event.actor == "township_a"
    assert set(unflagged.values_list("state", flat=True)) == {EntryState.TOWNSHIP_APPROVED}


def test_a_list_with_unreviewed_rows_cannot_be_submitted(year, township_a):
    year.compared()
    entries_bulk_approve(user=township_a, cycle_id=year.cycle.pk, township_code=TOWNSHIP_A)
    left = year.cycle.entries.filter(township__code=TOWNSHIP_A, state=EntryState.COMPARED).count()
    with pytest.raises(InvalidInput) as refused:
        complete(year.instance, "township_review", township_a, scope=TOWNSHIP_A)
    assert refused.value.message == (
        f"{left} row(s) of the list are not reviewed yet: approve or reject each before submitting."
    )
    task = open_tasks(year.instance, "township_review").get(scope=TOWNSHIP_A)
    assert task.state == HumanTaskState.OPEN
    assert year.cycle.townships.get(township__code=TOWNSHIP_A).state == TownshipListState.REVIEWING


def test_the_county_returns_one_township_while_the_others_wait(year, township_a, township_b):
    year.reviewed()
    with pytest.raises(InvalidInput, match="Give the reason for returning."):
        complete(
            year.instance, "county_approval", year.clerk, decision="return", township=TOWNSHIP_B
        )
    complete(
        year.instance,
        "county_approval",
        year.clerk,
        decision="return",
        township=TOWNSHIP_B,
        reason="请核实何玉梅的户籍",
    )
    re_review = open_tasks(year.instance, "township_re_review").get()
    assert re_review.scope == TOWNSHIP_B and re_review.candidate_roles == ["township_staff"]
    lists = dict(year.cycle.townships.values_list("township__code", "state"))
    assert lists == {TOWNSHIP_A: "submitted", TOWNSHIP_B: "returned"}
    a_entry = year.cycle.entries.filter(township__code=TOWNSHIP_A).first()
    with pytest.raises(Conflict, match="has been submitted"):
        entry_decide(user=township_a, entry_id=a_entry.pk, decision="reject", reason="x")
    b_entry = year.cycle.entries.filter(township__code=TOWNSHIP_B, flagged=False).first()
    entry_decide(user=township_b, entry_id=b_entry.pk, decision="reject", reason="户籍已迁")
    complete(year.instance, "township_re_review", township_b)
    complete(year.instance, "county_approval", year.clerk, decision="approve")
    year.refresh()
    assert year.cycle.state == CycleState.COUNTY_APPROVED
    assert year.cycle.county_approved_persons == 7  # eight eligible, one rejected on review
    assert year.cycle.county_approved_total == Decimal("7000.00")


def test_a_finance_total_that_does_not_match_the_lines_is_refused(year, finance_clerk):
    year.county_approved()
    before = list(year.cycle.entries.values_list("pk", "state"))
    with pytest.raises(InvalidInput) as refused:
        complete(
            year.instance,
            "finance_approval",
            finance_clerk,
            decision="approve",
            confirmed_total="7000",
        )
    assert refused.value.message == (
        "The total approved (7000 yuan) does not match the list: 8 persons, 8000.00 yuan."
    )
    assert refused.value.fields == {"confirmed_total": [refused.value.message]}
    year.refresh()
    assert year.cycle.state == CycleState.COUNTY_APPROVED
    assert list(year.cycle.entries.values_list("pk", "state")) == before
    assert open_tasks(year.instance, "finance_approval").exists()
    complete(
        year.instance,
        "finance_approval",
        finance_clerk,
        decision="approve",
        confirmed_total="8,000.00",
    )
    year.refresh()
    assert year.cycle.state in (CycleState.FINANCE_APPROVED, CycleState.PAYING)
    assert year.cycle.finance_approved_total == Decimal("8000.00")


def test_finance_returns_the_list_to_the_county_with_a_reason(year, finance_clerk):
    year.county_approved()
    complete(
        year.instance, "finance_approval", finance_clerk, decision="return", reason="预算未下达"
    )
    year.refresh()
    assert year.cycle.state == CycleState.REVIEWING
    assert year.cycle.last_return_reason == "预算未下达"
    assert not year.cycle.entries.filter(state=EntryState.COUNTY_APPROVED).exists()
    assert open_tasks(year.instance, "county_approval").exists()


def test_each_role_does_only_its_own_part(
    year, township_a, township_b, finance_clerk, auditor, county_clerk
):
    year.compared()
    a_entry = year.cycle.entries.filter(township__code=TOWNSHIP_A).first()
    for user in (township_b, finance_clerk, auditor):
        with pytest.raises(NotAllowed):
            entry_decide(user=user, entry_id=a_entry.pk, decision="reject", reason="x")
        with pytest.raises(NotAllowed):
            entries_bulk_approve(user=user, cycle_id=year.cycle.pk, township_code=TOWNSHIP_A)
    # Reading: auditors see everything read-only, townships their own list, finance totals only.
    township = a_entry.township
    assert selectors.can_read_entries(auditor, year.cycle, township)
    assert selectors.can_read_entries(county_clerk, year.cycle, township)
    assert selectors.can_read_entries(township_a, year.cycle, township)
    assert not selectors.can_read_entries(township_b, year.cycle, township)
    assert not selectors.can_read_entries(finance_clerk, year.cycle, township)
    assert selectors.sees_totals(finance_clerk, year.cycle)
    assert not selectors.sees_totals(township_a, year.cycle)
    assert [t.township.code for t in selectors.township_lists_for(township_b, year.cycle)] == [
        TOWNSHIP_B
    ]


def test_the_review_finishes_when_another_process_made_its_tasks(year):
    """The comparison job (a worker) creates the townships' review tasks; the web server that
    completes them has parsed the diagram on its own."""
    from workflows.services.runtimes import _runtime

    year.compared()
    _runtime.cache_clear()
    for code, user in year.staff.items():
        entries_bulk_approve(user=user, cycle_id=year.cycle.pk, township_code=code)
        for entry in year.cycle.entries.filter(township__code=code, state=EntryState.COMPARED):
            entry_decide(user=user, entry_id=entry.pk, decision="reject", reason="不符合")
        complete(year.instance, "township_review", user, scope=code)
        _runtime.cache_clear()
    assert open_tasks(year.instance, "county_approval").exists()


def test_a_missing_row_list_or_cycle_is_named_in_chinese(year, township_a):
    county = OrgUnit.objects.get(code=COUNTY)
    year.start()
    with translation.override("zh-hans"):
        with pytest.raises(NotFound, match="^名单中没有这一条记录。$"):
            entry_decide(user=township_a, entry_id=999999, decision="approve")
        with pytest.raises(NotFound, match="^没有这个药费补助周期。$"):
            entries_bulk_approve(user=township_a, cycle_id=999999, township_code=TOWNSHIP_A)
        with pytest.raises(NotFound) as refused:
            entries_bulk_approve(user=township_a, cycle_id=year.cycle.pk, township_code=COUNTY)
    assert refused.value.message == f"{county.name}在{year.cycle.year}年药费补助周期中没有名单。"
