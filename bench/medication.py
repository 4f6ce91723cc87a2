"""The yearly medication subsidy at county scale. Prints figures, asserts nothing.

    .venv/bin/python bench/medication.py [--sizes 5000,50000] [--naive 500]

Each run is a child process on its own throwaway PostgreSQL database (``fuzhu_bench_medication``
on 127.0.0.1:5432: created, migrated, dropped). For each size N, a county of 15 townships gets N
of last year's recipients (psychiatric certificate, 低保, a bank card; one in fifty with one of
the problems the comparison looks for) plus N/50 new applicants, and the whole year runs through
the real services and the engine (``medication_subsidy_cycle.bpmn``):

* import: the 15 townships' survey lists (.xlsx), then the civil-affairs low-income list (N rows),
  the death and household-move lists;
* comparison: the asynchronous comparison job;
* township review: per township one bulk approval of the unflagged rows, each flagged row decided
  one by one with a reason, the list submitted (all 15 task completions);
* approvals: the county's and the finance bureau's task completions;
* payout file: the payout job (.xlsx + .csv of N lines), then the bank's return file (N rows, a
  few failed), the corrections and the follow-up batch, the closing job;
* SQL statements of each bulk action (the same at 5,000 and 50,000 is the point), and the cycle
  instance's serialized size, largest seen (limit: 100 KB whatever N).

The naive alternative runs in the same invocation: the same kind of list as a SpiffWorkflow
parallel multi-instance user task, one task per person (--naive persons), each completed through
``task_complete``; its time and state size are the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
DB = "fuzhu_bench_medication"
KEY = "medication_subsidy_cycle"
COUNTY = "330102000000"
TX_CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK")
NAIVE_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="naive" targetNamespace="http://fuzhu.example/bpmn">
  <bpmn:process id="naive_person_review" name="逐人审核（对照）" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review_person" />
    <bpmn:userTask id="review_person" name="审核一人" camunda:candidateGroups="township_staff">
      <bpmn:multiInstanceLoopCharacteristics camunda:collection="persons"
        camunda:elementVariable="person" />
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="review_person" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def pg_admin(*statements: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def setup_django(workdir: Path) -> None:
    pg_admin(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)", f"CREATE DATABASE {DB}")
    os.environ["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{DB}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["FUZHU_VAR_DIR"] = str(workdir)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, skip_checks=True)


def teardown() -> None:
    from django.db import connections

    connections.close_all()
    pg_admin(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")


def data_statements(queries) -> int:
    return sum(1 for q in queries if not q["sql"].lstrip().upper().startswith(TX_CONTROL))


class Clock:
    """Wall time per stage, and the SQL statements of chosen bulk actions."""

    def __init__(self):
        self.stages: dict[str, float] = {}
        self.sql: dict[str, int] = {}
        self.largest_state = 0

    def time(self, stage: str, action, *args, sql: str | None = None, **kwargs):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        began = time.perf_counter()
        if sql:
            with CaptureQueriesContext(connection) as queries:
                result = action(*args, **kwargs)
            self.sql[sql] = data_statements(queries.captured_queries)
        else:
            result = action(*args, **kwargs)
        self.stages[stage] = self.stages.get(stage, 0.0) + time.perf_counter() - began
        return result

    def watch(self, instance_id: int) -> None:
        from workflows.models import ProcessInstance

        state = ProcessInstance.objects.values_list("serialized_state", flat=True).get(
            pk=instance_id
        )
        self.largest_state = max(self.largest_state, len(state.encode()))


# --- the year -------------------------------------------------------------------------------------


from bench.medication_data import (  # noqa: E402 - after sys.path is set
    last_year,
    make_county,
    make_persons,
    reference_files,
    return_file,
    xlsx_upload,
)


def open_task(instance_id: int, element: str, scope: str | None = None):
    from workflows.models import HumanTask

    tasks = HumanTask.objects.filter(instance_id=instance_id, element_id=element, state="open")
    return tasks.get(scope=scope) if scope else tasks.get()


def complete(instance_id, element, user, scope=None, **data):
    from workflows.services.tasks import task_complete

    task_complete(task_id=open_task(instance_id, element, scope).pk, user=user, data=data)


def run_jobs() -> None:
    from workflows.services.jobs import job_run, jobs_sweep

    while due := jobs_sweep():
        for job_id in due:
            job_run(job_id=job_id)


def survey_and_compare(clock, cycle, iid, staff, county, newcomers, everyone) -> None:
    from processes.medication.services import reference, survey

    by_township: dict[str, list] = {}
    for person in newcomers:
        by_township.setdefault(person.household_unit.parent.code, []).append(person)
    for code, user in staff.items():
        rows = [["姓名", "公民身份号码"]] + [
            [p.name, p.citizen_id] for p in by_township.get(code, [])
        ]
        upload = xlsx_upload("摸底.xlsx", rows)
        clock.time(
            "import",
            survey.survey_import,
            user=user,
            cycle_id=cycle.pk,
            township_code=code,
            upload=upload,
        )
        clock.time("import", complete, iid, "survey", user, code)
    for kind, rows in reference_files(everyone).items():
        upload = xlsx_upload(f"{kind}.xlsx", rows)
        clock.time(
            "import",
            reference.reference_upload,
            user=county,
            cycle_id=cycle.pk,
            kind=kind,
            upload=upload,
        )
    clock.time("import", complete, iid, "reference_data", county)
    clock.time("comparison", run_jobs, sql="comparison job")
    clock.watch(iid)


def township_reviews(clock, cycle, iid, staff) -> int:
    """Per township: the unflagged rows in bulk, each flagged row with a reason, submit."""
    from processes.medication.models import EntryState
    from processes.medication.services import review

    decided = 0
    for index, (code, user) in enumerate(staff.items()):
        clock.time(
            "township review",
            review.entries_bulk_approve,
            user=user,
            cycle_id=cycle.pk,
            township_code=code,
            sql="bulk approval of one township" if index == 0 else None,
        )
        flagged = cycle.entries.filter(township__code=code, state=EntryState.COMPARED)
        for pk in flagged.values_list("pk", flat=True):
            clock.time(
                "township review (flagged rows one by one)",
                review.entry_decide,
                user=user,
                entry_id=pk,
                decision="reject",
                reason="比对异常，核实不符",
            )
            decided += 1
        label = "township list submitted (task)" if index == 0 else None
        clock.time("township review", complete, iid, "township_review", user, code, sql=label)
    clock.watch(iid)
    return decided


def pay(clock, cycle, iid, staff, county) -> None:
    """The batch, the bank's answer (one in 400 failed), corrections, the follow-up batch."""
    from processes.medication.models import EntryState
    from processes.medication.services import payout
    from workflows.models import HumanTask

    clock.time("payout file", run_jobs, sql="payout job (batch + files)")
    batch = cycle.batches.get()
    clock.time(
        "bank return",
        payout.bank_return_apply,
        user=county,
        batch_id=batch.pk,
        upload=return_file(batch, 400),
        sql="bank return file",
    )
    clock.time("bank return", complete, iid, "bank_return", county)
    for entry in cycle.entries.filter(state=EntryState.PAYMENT_FAILED).select_related("township"):
        clock.time(
            "corrections",
            payout.entry_correct_account,
            user=staff[entry.township.code],
            entry_id=entry.pk,
            kind="bank_card",
            number=f"62270000{entry.pk:010d}",
        )
    tasks = HumanTask.objects.filter(instance_id=iid, element_id="account_correction", state="open")
    for task in tasks:
        clock.time(
            "corrections", complete, iid, "account_correction", staff[task.scope], task.scope
        )
    clock.time("payout file", run_jobs)
    follow_up = cycle.batches.get(number=2)
    clock.time(
        "bank return",
        payout.bank_return_apply,
        user=county,
        batch_id=follow_up.pk,
        upload=return_file(follow_up),
    )
    clock.time("bank return", complete, iid, "bank_return", county)


def run_year(size: int) -> dict:
    from django.utils import timezone

    from processes.medication.models import MedicationCycle
    from registry.models import OrgUnit
    from workflows.services.definitions import definition_deploy
    from workflows.services.instances import instance_start

    today = timezone.localdate()
    users, staff = make_county()
    villages = list(
        OrgUnit.objects.filter(kind__in=["village", "community"]).select_related("parent")
    )
    began = time.perf_counter()
    recipients = make_persons(size, offset=0, villages=villages, today=today)
    newcomers = make_persons(size // 50, offset=size, villages=villages, today=today)
    last_year(recipients, today)
    generated = time.perf_counter() - began
    definition_deploy(content=(ROOT / "processes/bpmn" / f"{KEY}.bpmn").read_bytes(), user=None)
    clock = Clock()
    county, finance = users["county"], users["finance"]
    instance = clock.time("start", instance_start, process_key=KEY, user=county, variables={})
    cycle = MedicationCycle.objects.get(instance=instance)
    iid = instance.pk
    survey_and_compare(clock, cycle, iid, staff, county, newcomers, recipients + newcomers)
    decided = township_reviews(clock, cycle, iid, staff)
    clock.time(
        "approvals",
        complete,
        iid,
        "county_approval",
        county,
        decision="approve",
        sql="county approval (task)",
    )
    cycle.refresh_from_db()
    clock.time(
        "approvals",
        complete,
        iid,
        "finance_approval",
        finance,
        decision="approve",
        confirmed_total=str(cycle.county_approved_total),
        sql="finance approval (task)",
    )
    pay(clock, cycle, iid, staff, county)
    clock.time("close", run_jobs, sql="closing job (report)")
    clock.time("close", complete, iid, "cycle_report", county)
    clock.watch(iid)
    cycle.refresh_from_db()
    instance.refresh_from_db()
    total = cycle.report["total"]
    return {
        "size": size,
        "entries": cycle.entries.count(),
        "generated_seconds": generated,
        "stages": clock.stages,
        "sql": clock.sql,
        "largest_state": clock.largest_state,
        "final_state": len(instance.serialized_state.encode()),
        "instance_state": instance.state,
        "flagged": cycle.comparison["flagged"],
        "decided_one_by_one": decided,
        "paid": total["paid"],
        "paid_amount": total["paid_amount"],
    }


def run_naive(persons: int) -> dict:
    """One user task per person: a parallel multi-instance over the list, completed one by one."""
    from django.contrib.auth import get_user_model

    from registry.models import OrgUnitKind
    from registry.services.org_units import org_unit_create
    from workflows.models import HumanTask, ProcessInstance
    from workflows.services.definitions import definition_deploy
    from workflows.services.instances import instance_start
    from workflows.services.roles import role_grant
    from workflows.services.tasks import task_complete

    org_unit_create(code=COUNTY, name="清溪县", kind=OrgUnitKind.COUNTY, parent_code="")
    org_unit_create(code="330102101000", name="桐溪镇", kind=OrgUnitKind.TOWN, parent_code="")
    staff = get_user_model().objects.create_user("township")
    role_grant(user=staff, role="township_staff", org_unit="330102101000")
    definition_deploy(content=NAIVE_BPMN.encode(), user=None)
    began = time.perf_counter()
    instance = instance_start(
        process_key="naive_person_review",
        user=staff,
        org_unit="330102101000",
        variables={"persons": list(range(100_000, 100_000 + persons))},
    )
    started = time.perf_counter() - began
    size_at_start = len(ProcessInstance.objects.get(pk=instance.pk).serialized_state.encode())
    latencies, largest = [], size_at_start
    tasks = list(
        HumanTask.objects.filter(instance=instance, state="open").values_list("pk", flat=True)
    )
    for index, task_id in enumerate(tasks):
        t0 = time.perf_counter()
        task_complete(task_id=task_id, user=staff, data={"decision": "approve"})
        latencies.append(time.perf_counter() - t0)
        if index % 50 == 0:
            state = ProcessInstance.objects.values_list("serialized_state", flat=True).get(
                pk=instance.pk
            )
            largest = max(largest, len(state.encode()))
    total = time.perf_counter() - began
    instance.refresh_from_db()
    return {
        "persons": persons,
        "tasks": len(tasks),
        "start_seconds": started,
        "total_seconds": total,
        "first_ms": latencies[0] * 1000,
        "median_ms": sorted(latencies)[len(latencies) // 2] * 1000,
        "last_ms": latencies[-1] * 1000,
        "size_at_start": size_at_start,
        "largest_state": largest,
        "instance_state": instance.state,
    }


# --- the parent: one child per run, one report -------------------------------------------------


def child(kind: str, number: int) -> None:
    with tempfile.TemporaryDirectory(prefix="fuzhu-bench-medication-") as workdir:
        setup_django(Path(workdir))
        try:
            result = run_naive(number) if kind == "naive" else run_year(number)
        finally:
            teardown()
    print("RESULT " + json.dumps(result, default=str))


def spawn(kind: str, number: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(number)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise SystemExit(f"the {kind} {number} run failed:\n{out.stdout[-3000:]}\n{out.stderr[-6000:]}")


STAGES = [
    "start",
    "import",
    "comparison",
    "township review",
    "township review (flagged rows one by one)",
    "approvals",
    "payout file",
    "bank return",
    "corrections",
    "close",
]


def _line(label: str, values, spec: str = ",", indent: str = "  ") -> None:
    print(f"{indent}{label:42}" + "".join(f"{value:>14{spec}}" for value in values))


def report(years: list[dict], naive: dict | None) -> None:
    print("Medication subsidy (困难精神残疾人药费补助), one whole year on PostgreSQL")
    _line("persons", [y["size"] for y in years], indent="")
    _line("entries in the cycle (with new applicants)", [y["entries"] for y in years], indent="")
    _line("flagged by the comparison", [y["flagged"] for y in years], indent="")
    print("stage times (s)")
    for stage in STAGES:
        _line(stage, [y["stages"].get(stage, 0) for y in years], ".2f")
    machine = [sum(y["stages"].values()) for y in years]
    _line("machine time, whole year", machine, ".2f")
    _line("ratio to the first size (x)", [m / machine[0] for m in machine], ".1f")
    print("SQL statements per bulk action")
    for name in years[0]["sql"]:
        _line(name, [y["sql"].get(name, 0) for y in years])
    print("cycle instance, serialized state (bytes; limit 100,000)")
    _line("largest during the year", [y["largest_state"] for y in years])
    _line("at the end", [y["final_state"] for y in years])
    print("outcome")
    _line("paid persons", [y["paid"] for y in years])
    _line("money paid (yuan)", [y["paid_amount"] for y in years], "")
    _line("flagged rows decided one by one", [y["decided_one_by_one"] for y in years])
    _line("instance", [y["instance_state"] for y in years], "")
    _line("data generation, s (not timed above)", [y["generated_seconds"] for y in years], ".1f")
    if naive:
        _report_naive(naive, years[0])


def _report_naive(naive: dict, year: dict) -> None:
    persons = naive["persons"]
    print(f"naive baseline: one user task per person (parallel multi-instance, {persons} persons)")
    started = f"start (creates {naive['tasks']} tasks)"
    print(f"  {started:42}{naive['start_seconds']:14.2f} s")
    print(f"  {'complete every task, total':42}{naive['total_seconds']:14.2f} s")
    one = f"{naive['first_ms']:.0f} / {naive['median_ms']:.0f} / {naive['last_ms']:.0f} ms"
    print(f"  {'one completion: first / median / last':42}{one:>16}")
    sizes = f"{naive['size_at_start']:,} / {naive['largest_state']:,} bytes"
    print(f"  {'serialized state: at start / largest':42}{sizes:>22}")
    per_person = naive["total_seconds"] / persons * 1000
    fuzhu = year["stages"].get("township review", 0) / max(year["entries"], 1) * 1000
    print(f"  {'per person reviewed: naive':42}{per_person:14.1f} ms")
    print(f"  {'per person reviewed: Fuzhu bulk review':42}{fuzhu:14.3f} ms ({year['size']:,})")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,50000")
    parser.add_argument("--naive", type=int, default=500, help="persons in the baseline (0: skip)")
    args = parser.parse_args()
    began = time.perf_counter()
    years = [spawn("year", int(n)) for n in args.sizes.split(",")]
    naive = spawn("naive", args.naive) if args.naive else None
    report(years, naive)
    print(
        f"bench wall time: {time.perf_counter() - began:.0f} s; load average (1, 5 min) at the "
        f"end: {os.getloadavg()[0]:.1f}, {os.getloadavg()[1]:.1f} (other work skews the times)"
    )


if __name__ == "__main__":
    main()
