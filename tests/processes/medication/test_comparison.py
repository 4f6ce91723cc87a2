"""The data comparison: every check, the provenance of each flag, the reference files' bad
input, the job's idempotence, and the 31 March deadline."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from processes.medication.models import (
    CycleState,
    EntryFlag,
    EntryState,
    FlagKind,
    ReferenceFile,
    ReferenceRow,
)
from processes.medication.services.comparison import cycle_compare
from processes.medication.services.reference import reference_upload
from workflows.exceptions import Conflict, InvalidInput, NotAllowed

from .conftest import TOWNSHIP_A, TOWNSHIP_B, TZ, complete, open_tasks, run_jobs, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def flags_by_name(cycle) -> dict[str, list[tuple]]:
    found: dict[str, list[tuple]] = {}
    for flag in EntryFlag.objects.filter(entry__cycle=cycle).select_related("entry__person"):
        found.setdefault(flag.entry.person.name, []).append(
            (flag.kind, flag.source_name, flag.source_row)
        )
    return found


def test_every_check_flags_the_right_person_and_names_its_source(year, township_a, county_clerk):
    year.start()
    eligible = year.people["eligible"]
    deaths = [
        ["姓名", "公民身份号码", "死亡日期"],
        [eligible[1].name, eligible[1].citizen_id, "2024/12/1"],
    ]
    moves = [
        ["姓名", "公民身份号码", "迁出日期", "迁往地"],
        [eligible[2].name, eligible[2].citizen_id, "20241008", "杭州"],
    ]
    low = [["姓名", "公民身份号码", "困难类别", "认定日期", "终止日期"]]
    for p in eligible[1:] + list(year.people["flagged"].values()):
        ended = "2024-12-31" if p.name == "黄志强" else ""  # the civil-affairs list ended it
        low.append(
            [p.name, p.citizen_id, "特困" if p.low_income_status == "tekun" else "低保", "", ended]
        )
    for kind, name, rows in (
        ("deaths", "死亡.csv", deaths),
        ("moves", "迁出.xlsx", moves),
        ("low_income", "民政.xlsx", low),
    ):
        reference_upload(
            user=county_clerk,
            cycle_id=year.cycle.pk,
            kind=kind,
            upload=upload(name, rows, kind=name.rsplit(".", 1)[1]),
        )
    year.compared()
    assert year.cycle.state == CycleState.REVIEWING
    found = flags_by_name(year.cycle)
    assert found["刘建国"] == [(FlagKind.DECEASED, "死亡.csv", 2)]
    assert found["杨桂兰"] == [(FlagKind.MOVED_OUT, "迁出.xlsx", 2)]
    assert found["黄志强"] == [(FlagKind.LOW_INCOME_LOST, "民政.xlsx", 4)]
    assert found["王秀英"] == [(FlagKind.LOW_INCOME_LOST, "民政.xlsx", None)]  # not on the list
    assert found["李死亡"] == [(FlagKind.DECEASED, "registry", None)]
    assert found["张迁出"] == [(FlagKind.MOVED_OUT, "registry", None)]
    assert found["陈过期"] == [(FlagKind.CERTIFICATE_EXPIRED, "registry", None)]
    assert found["赵注销"] == [(FlagKind.CERTIFICATE_CANCELLED, "registry", None)]
    assert found["孙肢体"] == [(FlagKind.NOT_PSYCHIATRIC, "registry", None)]
    assert found["吴财供"] == [(FlagKind.EXCLUDED_SCHEME, "registry", None)]
    assert found["郑无卡"] == [(FlagKind.NO_CARD, "registry", None)]
    # The civil-affairs list is the authority once uploaded: 周脱保 is on it again.
    assert "周脱保" not in found and "林春燕" not in found and "罗特困" not in found
    flagged = year.cycle.entries.filter(flagged=True).count()
    assert flagged == len(found) == year.cycle.comparison["flagged"]
    assert year.cycle.entries.filter(state=EntryState.COMPARED).count() == 16
    assert sorted(t.scope for t in open_tasks(year.instance, "township_review")) == [
        TOWNSHIP_A,
        TOWNSHIP_B,
    ]


@pytest.mark.parametrize(
    ("kind", "rows", "message"),
    [
        (
            "deaths",
            [
                ["姓名", "公民身份号码", "死亡日期", "备注"],
                ["某", "11010519491231002X", "2024-01-01", ""],
            ],
            "unknown column(s): 备注。The columns of a death list are: "
            "姓名、公民身份号码、死亡日期",
        ),
        (
            "low_income",
            [["姓名", "身份证号", "困难类别"], ["某", "11010519491231002X", "低保"]],
            "unknown column(s): 身份证号; missing column(s): 公民身份号码。The columns of a "
            "low-income list are: 姓名、公民身份号码、困难类别、认定日期、终止日期",
        ),
        (
            "moves",
            [
                ["姓名", "公民身份号码", "迁出日期"],
                ["某", "11010519491231002X", "去年"],
                ["某", "110105194912310021", "2024-01-01"],
            ],
            "The file was not used: 2 row(s) have problems. row 2: '去年' is not a date: write it "
            "as 2024-05-01; row 3: The check digit of the citizen ID 110105194912310021 is wrong: "
            "it should end in X.",
        ),
    ],
)
def test_a_reference_file_that_does_not_fit_is_refused_whole(
    year, county_clerk, kind, rows, message
):
    year.start()
    with pytest.raises(InvalidInput) as refused:
        reference_upload(
            user=county_clerk, cycle_id=year.cycle.pk, kind=kind, upload=upload("x.csv", rows)
        )
    assert refused.value.message == message
    assert not ReferenceFile.objects.exists() and not ReferenceRow.objects.exists()


def test_row_problems_of_a_reference_file_are_listed_in_chinese(year, county_clerk):
    year.start()
    rows = [
        ["姓名", "公民身份号码", "迁出日期"],
        ["某", "11010519491231002X", "去年"],
        ["某", "11010519491231002X", "2024-02-30"],
    ]
    with translation.override("zh-hans"), pytest.raises(InvalidInput) as refused:
        reference_upload(
            user=county_clerk, cycle_id=year.cycle.pk, kind="moves", upload=upload("x.csv", rows)
        )
    assert refused.value.message == (
        "文件未导入：有2行存在问题。第2行：“去年”不是日期，请写成 2024-05-01 的格式；"
        "第3行：“2024-02-30”不是有效的日期"
    )


def test_the_same_reference_file_twice_is_refused_and_only_county_staff_upload(
    year, county_clerk, township_a
):
    year.start()
    rows = [["姓名", "公民身份号码", "死亡日期"], ["某", "11010519491231002X", "2024-01-01"]]
    with pytest.raises(NotAllowed):
        reference_upload(
            user=township_a, cycle_id=year.cycle.pk, kind="deaths", upload=upload("死亡.csv", rows)
        )
    reference_upload(
        user=county_clerk, cycle_id=year.cycle.pk, kind="deaths", upload=upload("死亡.csv", rows)
    )
    with pytest.raises(InvalidInput, match="already uploaded on 2025-01-02 as “死亡.csv”"):
        reference_upload(
            user=county_clerk,
            cycle_id=year.cycle.pk,
            kind="deaths",
            upload=upload("死亡-副本.csv", rows),
        )
    assert ReferenceFile.objects.count() == 1
    year.compared()
    with pytest.raises(Conflict):  # after the comparison the data is fixed
        reference_upload(
            user=county_clerk,
            cycle_id=year.cycle.pk,
            kind="moves",
            upload=upload(
                "迁出.csv",
                [["姓名", "公民身份号码", "迁出日期"], ["某", "11010519491231002X", "2024-01-01"]],
            ),
        )


def test_the_comparison_runs_in_bulk_and_a_second_run_changes_nothing(year):
    year.start()
    for code, user in year.staff.items():
        complete(year.instance, "survey", user, scope=code)
    complete(year.instance, "reference_data", year.clerk)
    with CaptureQueriesContext(connection) as queries:
        result = cycle_compare(cycle_id=year.cycle.pk)
    assert result == {"compared_entries": 16, "flagged_entries": 8}
    assert len(queries) < 40  # bulk: independent of the number of entries
    flags = EntryFlag.objects.count()
    assert cycle_compare(cycle_id=year.cycle.pk) == result  # the job ran again: nothing new
    assert EntryFlag.objects.count() == flags
    run_jobs()  # the engine's own job finds the work done and moves on
    assert open_tasks(year.instance, "township_review").count() == 2


def test_a_comparison_not_done_by_31_march_is_escalated_to_county_staff(year, clock):
    from workflows.services.deadlines import deadlines_sweep
    from workflows.services.timers import timers_fire_due

    year.start()
    clock.move_to(datetime(2025, 3, 13, 9, tzinfo=TZ))
    assert deadlines_sweep()[0] >= 2  # the surveys' reminders, 3 working days before 15 March
    clock.move_to(datetime(2025, 4, 1, 9, tzinfo=TZ))
    timers_fire_due()
    escalation = open_tasks(year.instance, "comparison_escalation").get()
    assert escalation.candidate_roles == ["county_staff"]
    assert open_tasks(year.instance, "survey").count() == 2  # the work itself goes on
    complete(year.instance, "comparison_escalation", year.clerk, instruction="请各乡镇本周内提交")
    assert TOWNSHIP_B in open_tasks(year.instance, "survey").values_list("scope", flat=True)
