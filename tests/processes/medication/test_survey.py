"""The survey of new applicants: one by one or imported, each checked at once."""

from __future__ import annotations

import pytest
from django.utils import translation

from processes.medication.models import EntrySource, EntryState, FlagKind, MedicationEntry
from processes.medication.services.survey import survey_add, survey_import, survey_withdraw
from tests.registry.factories import VILLAGE_A1, VILLAGE_B1
from workflows.exceptions import Conflict, InvalidInput, NotAllowed
from workflows.models import AuditEvent

from .conftest import TOWNSHIP_A, TOWNSHIP_B, complete, person, upload

pytestmark = pytest.mark.django_db
HEADER = ["姓名", "公民身份号码", "联系电话", "备注"]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def test_an_eligible_applicant_is_added_and_an_ineligible_one_shows_every_reason(year, township_a):
    year.start()
    ok = person(VILLAGE_A1, "新申请")
    poor = person(VILLAGE_A1, "不符合", category=4, card=None, low_income="none")
    added = survey_add(
        user=township_a, cycle_id=year.cycle.pk, township_code=TOWNSHIP_A, citizen_id=ok.citizen_id
    )
    assert added.source == EntrySource.NEW and added.survey_check == []
    refused = survey_add(
        user=township_a,
        cycle_id=year.cycle.pk,
        township_code=TOWNSHIP_A,
        citizen_id=poor.citizen_id,
        name="不符合",
    )
    assert [c["detail"] for c in refused.survey_check] == [
        "certificate category is 肢体",
        "no low-income status",
        "no card account registered",
    ]
    assert AuditEvent.objects.filter(element_id="applicant_added").count() == 2


def test_adding_refuses_bad_ids_other_townships_unknown_persons_and_double_entries(
    year, township_a
):
    year.start()
    outside = person(VILLAGE_B1, "白沙人")
    mine = person(VILLAGE_A1, "城关人")

    def add(citizen_id, name=""):
        return survey_add(
            user=township_a,
            cycle_id=year.cycle.pk,
            township_code=TOWNSHIP_A,
            citizen_id=citizen_id,
            name=name,
        )

    cases = [
        ("11010519491231002", "A citizen ID has 18 characters; 11010519491231002 has 17."),
        (
            "110105194912310021",
            "The check digit of the citizen ID 110105194912310021 is wrong: it should end in X.",
        ),
        (
            "11010519491231002X",
            "11010519491231002X is not in the registry: register the person and the "
            "certificate first.",
        ),
        (outside.citizen_id, "白沙人's household is in 白沙镇, not in 城关镇."),
    ]
    for citizen_id, message in cases:
        with pytest.raises(InvalidInput) as refused:
            add(citizen_id)
        assert refused.value.message == message
    with pytest.raises(InvalidInput, match="under the name 城关人"):
        add(mine.citizen_id, name="别人")
    add(mine.citizen_id)
    with pytest.raises(InvalidInput, match="already in this year's survey list"):
        add(mine.citizen_id)
    assert year.cycle.entries.filter(source=EntrySource.NEW).count() == 1


def test_a_continuing_recipient_listed_again_is_shown_as_a_duplicate_at_once(year, township_a):
    year.start()
    again = year.people["eligible"][0]
    entry = survey_add(
        user=township_a,
        cycle_id=year.cycle.pk,
        township_code=TOWNSHIP_A,
        citizen_id=again.citizen_id,
    )
    assert [c["kind"] for c in entry.survey_check] == [FlagKind.DUPLICATE_ID]
    assert "城关镇（continuing recipient）" in entry.survey_check[0]["detail"]


def test_an_import_reports_every_row_and_adds_only_the_good_ones(year, township_a):
    year.start()
    good = person(VILLAGE_A1, "导入甲")
    poor = person(VILLAGE_A1, "导入乙", low_income="none")
    outside = person(VILLAGE_B1, "导入丙")
    rows = [
        HEADER,
        ["导入甲", good.citizen_id, "13800000001", "摸底"],
        ["坏号码", "33010219800101123", "", ""],
        ["导入丙", outside.citizen_id, "", ""],
        ["导入乙", poor.citizen_id, "", ""],
        ["导入甲", good.citizen_id, "", "重复行"],
        [None, None, None, None],
    ]
    report = survey_import(
        user=township_a,
        cycle_id=year.cycle.pk,
        township_code=TOWNSHIP_A,
        upload=upload("摸底.xlsx", rows, kind="xlsx"),
    )
    assert (report.added, report.refused, report.eligible) == (2, 3, 1)
    outcomes = [(r["row"], r["outcome"], r["messages"]) for r in report.rows]
    assert outcomes == [
        (2, "eligible", []),
        (3, "refused", ["A citizen ID has 18 characters; 33010219800101123 has 17."]),
        (4, "refused", ["导入丙's household is in 白沙镇, not in 城关镇."]),
        (5, "not_eligible", ["no low-income status"]),
        (6, "refused", ["repeats row 2 of this file"]),
    ]
    added = set(
        year.cycle.entries.filter(source=EntrySource.NEW).values_list("person__name", flat=True)
    )
    assert added == {"导入甲", "导入乙"}
    event = AuditEvent.objects.get(element_id="applicants_imported")
    assert event.payload["refused_rows"] == [3, 4, 6] and len(event.payload["entries"]) == 2


def test_an_import_with_unknown_columns_is_refused_whole(year, township_a):
    year.start()
    rows = [["姓名", "身份证", "联系电话"], ["某人", "330102198001011234", ""]]
    with pytest.raises(InvalidInput) as refused:
        survey_import(
            user=township_a,
            cycle_id=year.cycle.pk,
            township_code=TOWNSHIP_A,
            upload=upload("摸底.csv", rows),
        )
    assert refused.value.message == (
        "unknown column(s): 身份证; missing column(s): 公民身份号码。The columns of a survey list "
        "are: 姓名、公民身份号码、联系电话、备注"
    )
    assert not MedicationEntry.objects.filter(source=EntrySource.NEW).exists()


def test_a_township_works_only_its_own_list_and_only_until_it_submits(
    year, township_a, township_b, county_clerk
):
    year.start()
    mine = person(VILLAGE_A1, "本镇人")
    with pytest.raises(NotAllowed):
        survey_add(
            user=township_b,
            cycle_id=year.cycle.pk,
            township_code=TOWNSHIP_A,
            citizen_id=mine.citizen_id,
        )
    entry = survey_add(
        user=township_a,
        cycle_id=year.cycle.pk,
        township_code=TOWNSHIP_A,
        citizen_id=mine.citizen_id,
    )
    with pytest.raises(NotAllowed):
        survey_withdraw(user=township_b, entry_id=entry.pk)
    survey_withdraw(user=township_a, entry_id=entry.pk, reason="录错")
    entry.refresh_from_db()
    assert entry.state == EntryState.WITHDRAWN
    survey_add(
        user=township_a,
        cycle_id=year.cycle.pk,
        township_code=TOWNSHIP_A,
        citizen_id=mine.citizen_id,
    )  # added again after withdrawing
    complete(year.instance, "survey", township_a, scope=TOWNSHIP_A)
    late = person(VILLAGE_A1, "迟到人")
    with pytest.raises(Conflict, match="survey of 城关镇 was submitted"):
        survey_add(
            user=township_a,
            cycle_id=year.cycle.pk,
            township_code=TOWNSHIP_A,
            citizen_id=late.citizen_id,
        )
    assert year.cycle.townships.get(township__code=TOWNSHIP_B).state == "surveying"
