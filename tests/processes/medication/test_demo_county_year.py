"""The whole year on the demo county (≈5,000 persons, every flag kind in the data), through the
services and the engine as staff would run it, with the returns and failures a real year has."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Count

from processes.medication.demo import demo_medication_load
from processes.medication.models import (
    CycleState,
    EntryFlag,
    EntrySource,
    EntryState,
    FlagKind,
    LineState,
    MedicationCycle,
    MedicationEntry,
    PayoutLine,
)
from processes.medication.services.payout import (
    bank_return_apply,
    entry_abandon_payment,
    entry_correct_account,
)
from processes.medication.services.reference import reference_upload
from processes.medication.services.review import entries_bulk_approve, entry_decide
from processes.medication.services.survey import survey_add, survey_import
from registry.demo import demo_load
from registry.models import OrgUnit, Person
from workflows.models import InstanceState
from workflows.services.audit import audit_verify
from workflows.services.instances import instance_start
from workflows.services.roles import role_grant

from .conftest import complete, open_tasks, run_jobs, upload
from .test_year import bank_file

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("every_case_replays", "a_new_process_each_step"),
]
DEMO_PERSONS = 5000


def township_staff() -> dict[str, object]:
    users = {}
    for township in OrgUnit.objects.filter(
        parent__code="330102000000", kind__in=["street", "town", "township"]
    ):
        user = get_user_model().objects.create_user(f"staff_{township.code}")
        role_grant(user=user, role="township_staff", org_unit=township.code)
        users[township.code] = user
    return users


def survey(cycle, instance, staff, newly_eligible: list[int]) -> MedicationEntry:
    """The newly eligible are added (one township imports its list, with a person of another
    township refused), and one township lists a continuing recipient again (a duplicate ID)."""
    newly = Person.objects.filter(pk__in=newly_eligible).select_related("household_unit__parent")
    by_township: dict[str, list[Person]] = {}
    for person in newly:
        by_township.setdefault(person.household_unit.parent.code, []).append(person)
    importing, *adding = sorted(by_township)
    stranger = by_township[adding[0]][0]
    rows = [["姓名", "公民身份号码", "联系电话", "备注"]]
    rows += [[p.name, p.citizen_id, "", "摸底"] for p in by_township[importing]]
    rows += [[stranger.name, stranger.citizen_id, "", "别的乡镇"]]
    report = survey_import(
        user=staff[importing],
        cycle_id=cycle.pk,
        township_code=importing,
        upload=upload("摸底名单.xlsx", rows, kind="xlsx"),
    )
    assert report.added == len(by_township[importing]) and report.refused == 1
    for code in adding:
        for person in by_township[code]:
            survey_add(
                user=staff[code],
                cycle_id=cycle.pk,
                township_code=code,
                citizen_id=person.citizen_id,
            )
    twice = cycle.entries.filter(source=EntrySource.CONTINUING).select_related("township").first()
    code = twice.township.code
    survey_add(
        user=staff[code], cycle_id=cycle.pk, township_code=code, citizen_id=twice.person.citizen_id
    )
    for task in open_tasks(instance, "survey"):
        complete(instance, "survey", staff[task.scope], scope=task.scope)
    return twice


def reference_data(cycle, county) -> None:
    """The civil-affairs list (one person's status ended there), one more death and one more
    household move than the registry knows."""
    listed = list(cycle.entries.select_related("person").order_by("pk"))
    low_income = [["姓名", "公民身份号码", "困难类别", "认定日期", "终止日期"]]
    for entry in listed:
        p = entry.person
        if p.low_income_status != "none" and not p.low_income_until:
            status = "特困" if p.low_income_status == "tekun" else "低保"
            low_income.append([p.name, p.citizen_id, status, "2020-01-01", ""])
    low_income[5][4] = "2024-11-30"
    death, move = listed[10].person, listed[20].person
    files = {
        "low_income": upload("民政低保特困名单.xlsx", low_income, kind="xlsx"),
        "deaths": upload(
            "死亡名单.csv",
            [["姓名", "公民身份号码", "死亡日期"], [death.name, death.citizen_id, "2024-12-20"]],
        ),
        "moves": upload(
            "户籍迁出.csv",
            [
                ["姓名", "公民身份号码", "迁出日期", "迁往地"],
                [move.name, move.citizen_id, "2024-10-08", "杭州市"],
            ],
        ),
    }
    for kind, file in files.items():
        reference_upload(user=county, cycle_id=cycle.pk, kind=kind, upload=file)


def review(cycle, instance, staff, kept) -> None:
    """Unflagged rows in bulk; flagged rows rejected with their first flag as the reason, except
    one approved with a reason; then every township submits."""
    for code, user in staff.items():
        entries_bulk_approve(user=user, cycle_id=cycle.pk, township_code=code)
        rows = cycle.entries.filter(township__code=code, state=EntryState.COMPARED)
        for entry in rows.prefetch_related("flags"):
            if entry.pk == kept.pk:
                entry_decide(
                    user=user, entry_id=entry.pk, decision="approve", reason="已补办银行卡"
                )
            else:
                reason = str(entry.flags.all()[0].get_kind_display())
                entry_decide(user=user, entry_id=entry.pk, decision="reject", reason=reason)
        complete(instance, "township_review", user, scope=code)


def payout_with_failures(cycle, instance, staff, county, kept) -> None:
    """The kept no-card entry fails before the bank and the bank fails two more: one corrected,
    one given up, the other paid in a follow-up batch; then the year closes."""
    batch = cycle.batches.get()
    assert batch.line_count == cycle.county_approved_persons - 1
    failing = list(batch.lines.order_by("pk").values_list("citizen_id", flat=True)[:2])
    bank_return_apply(user=county, batch_id=batch.pk, upload=bank_file(batch, failing=failing))
    complete(instance, "bank_return", county)
    failed = {
        e.person.citizen_id: e
        for e in cycle.entries.filter(state=EntryState.PAYMENT_FAILED).select_related(
            "person", "township"
        )
    }
    assert set(failed) == {*failing, kept.person.citizen_id}
    first, second = failed[failing[0]], failed[failing[1]]
    for entry, number in ((first, "6228480000000001"), (kept, "6228480000000002")):
        entry_correct_account(
            user=staff[entry.township.code], entry_id=entry.pk, kind="bank_card", number=number
        )
    entry_abandon_payment(user=staff[second.township.code], entry_id=second.pk, reason="已死亡")
    for task in open_tasks(instance, "account_correction"):
        complete(instance, "account_correction", staff[task.scope], scope=task.scope)
    assert run_jobs() == 1
    follow_up = cycle.batches.get(number=2)
    assert follow_up.line_count == 2
    bank_return_apply(user=county, batch_id=follow_up.pk, upload=bank_file(follow_up))
    complete(instance, "bank_return", county)
    assert run_jobs() == 1
    complete(instance, "cycle_report", county)


def test_the_demo_county_runs_a_whole_year(clock):
    began = time.perf_counter()
    demo_load(persons=DEMO_PERSONS)
    demo = demo_medication_load(year=2025)
    users = {u.username: u for u in get_user_model().objects.all()}
    county, finance = users["county"], users["finance"]
    staff = township_staff()
    instance = instance_start(process_key="medication_subsidy_cycle", user=county, variables={})
    cycle = MedicationCycle.objects.get(year=2025)
    assert cycle.entries.count() == demo.recipients > 100
    assert open_tasks(instance, "survey").count() == 15

    twice = survey(cycle, instance, staff, demo.newly_eligible)
    reference_data(cycle, county)
    complete(instance, "reference_data", county)
    assert run_jobs() == 1
    cycle.refresh_from_db()
    assert cycle.state == CycleState.REVIEWING
    assert set(cycle.comparison["by_kind"]) == set(FlagKind.values)  # every kind in the data
    from_files = EntryFlag.objects.filter(entry__cycle=cycle, source_row__isnull=False)
    assert {f.source_name for f in from_files} == {
        "民政低保特困名单.xlsx",
        "死亡名单.csv",
        "户籍迁出.csv",
    }

    kept = cycle.entries.filter(flagged=True, flags__kind=FlagKind.NO_CARD).first()
    review(cycle, instance, staff, kept)
    # The county returns one township's list; it reviews again; finance returns once.
    returned = twice.township.code
    complete(
        instance, "county_approval", county, decision="return", township=returned, reason="请复核"
    )
    complete(instance, "township_re_review", staff[returned])
    complete(instance, "county_approval", county, decision="approve")
    complete(instance, "finance_approval", finance, decision="return", reason="请附预算文号")
    complete(instance, "county_approval", county, decision="approve")
    cycle.refresh_from_db()
    approved, total = cycle.county_approved_persons, cycle.county_approved_total
    assert total == Decimal("1000.00") * approved
    complete(instance, "finance_approval", finance, decision="approve", confirmed_total=str(total))
    assert run_jobs() == 1
    payout_with_failures(cycle, instance, staff, county, kept)

    instance.refresh_from_db()
    cycle.refresh_from_db()
    assert instance.state == InstanceState.COMPLETED and cycle.state == CycleState.CLOSED
    paid = PayoutLine.objects.filter(cycle=cycle, state=LineState.PAID)
    assert paid.count() == approved - 1 == cycle.report["total"]["paid"]
    assert Decimal(cycle.report["total"]["paid_amount"]) == Decimal("1000.00") * (approved - 1)
    assert not paid.values("person").annotate(n=Count("pk")).filter(n__gt=1).exists()
    assert cycle.entries.filter(state=EntryState.PAID).count() == approved - 1
    checked, breaks = audit_verify(streams=[f"medication:{cycle.pk}", f"instance:{instance.pk}"])
    assert breaks == [] and checked > 50
    assert len(instance.serialized_state) < 100_000
    assert time.perf_counter() - began < 60


def test_load_demo_medication_gives_the_demo_county_last_years_paid_list_once(clock):
    from django.core.management import call_command

    demo_load(persons=800)
    call_command("load_demo_medication")
    previous = MedicationCycle.objects.get(year=2024)
    assert previous.state == CycleState.CLOSED
    paid = previous.entries.filter(state=EntryState.PAID).count()
    assert paid > 10
    listed, report = previous.entries.count(), previous.report
    call_command("load_demo_medication")  # idempotent
    previous.refresh_from_db()
    assert MedicationCycle.objects.count() == 1 and previous.entries.count() == listed
    assert previous.report == report and report["total"]["paid"] == paid
