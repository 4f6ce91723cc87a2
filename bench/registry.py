"""Registry benchmark: the Excel/CSV import and the township inbox. Prints figures, asserts
nothing.

    .venv/bin/python bench/registry.py [--rows 50000] [--tasks 200000] [--quick]

One child process per backend, each on a throwaway database (a temp SQLite file;
``fuzhu_bench_registry`` on 127.0.0.1:5432, created, migrated, dropped), with the demo county's
org units (registry.demo, no persons) and one county clerk:

* import: an .xlsx of --rows new persons with certificates (openpyxl write-only), uploaded with
  ``import_batch_create`` (streamed check, per-row report) then ``import_batch_commit`` (upsert);
  rows/s of each phase. The same persons again as CSV (all rows unchanged): rows/s.
* memory: tracemalloc peak of the Python heap for check + commit of 5,000 and of --rows rows
  (a re-import of the xlsx); flat memory means the two peaks are close. Also ru_maxrss.
* inbox (PostgreSQL; also SQLite for reference): --tasks open HumanTask rows (+ one
  TaskCandidate each) spread over the county's 15 townships, their villages and institutions,
  then ``inbox_for_user`` for a township officer: SQL queries for one page of 50 with its count
  (CaptureQueriesContext), p50/p95 over 30 runs for page 1 and page 20, and EXPLAIN ANALYZE.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_DB = "fuzhu_bench_registry"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
TOWNSHIP = "330102101000"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def pg_admin(*statements: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def use_database(backend: str, workdir: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["FUZHU_VAR_DIR"] = str(workdir)
    os.environ["FUZHU_IMPORT_RUNNER"] = "inline"
    if backend == "sqlite":
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    else:
        pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)", f"CREATE DATABASE {PG_DB}")
        os.environ["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{PG_DB}"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, skip_checks=True)


# --- import ------------------------------------------------------------------------------------


def make_rows(count: int, villages: list[str]) -> list[list]:
    from registry.identity import certificate_number_make, citizen_id_make
    from registry.imports.columns import HEADERS

    rng, rows, used = random.Random(7), [HEADERS], set()
    while len(rows) <= count:
        born = date(1935, 1, 1) + timedelta(days=rng.randrange(30000))
        citizen_id = citizen_id_make(
            area_code="330102", birth_date=born, sequence=rng.randrange(1000)
        )
        if citizen_id in used:
            continue
        used.add(citizen_id)
        category, grade = rng.randint(1, 6), rng.randint(1, 4)
        rows.append(
            [
                f"测试{len(rows)}",
                citizen_id,
                rng.choice(villages),
                f"138{rng.randrange(10**8):08d}",
                rng.choice(["低保", "无", "无", "特困"]),
                "",
                "",
                "",
                "",
                certificate_number_make(citizen_id=citizen_id, category=category, grade=grade),
                "视力听力言语肢体智力精神"[2 * category - 2 : 2 * category],
                "一二三四"[grade - 1] + "级",
                "",
                (date(2016, 1, 1) + timedelta(days=rng.randrange(3000))).isoformat(),
            ]
        )
    for values in rows[1:]:
        if values[4] == "无":
            continue
        values[5] = "2020-01-01"
    return rows


def write_xlsx(rows: list[list], path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("人员")
    for values in rows:
        sheet.append(values)
    workbook.save(path)


def write_csv(rows: list[list], path: Path) -> None:
    import csv

    with open(path, "w", encoding="gb18030", newline="") as handle:
        csv.writer(handle).writerows(rows)


def run_import(user, path: Path) -> dict:
    from registry.services.imports import import_batch_commit, import_batch_create

    def chunks():
        with open(path, "rb") as handle:
            while chunk := handle.read(1024 * 1024):
                yield chunk

    began = time.perf_counter()
    batch = import_batch_create(user=user, file_name=path.name, chunks=chunks())
    checked = time.perf_counter()
    batch = import_batch_commit(user=user, batch=batch)
    done = time.perf_counter()
    assert batch.state == "committed", (batch.state, batch.message)
    return {
        "rows": batch.rows_read,
        "invalid": batch.rows_invalid,
        "created": batch.rows_created,
        "unchanged": batch.rows_unchanged,
        "check_rows_per_s": batch.rows_read / (checked - began),
        "commit_rows_per_s": batch.rows_valid / (done - checked),
        "total_rows_per_s": batch.rows_read / (done - began),
        "seconds": done - began,
    }


def traced(user, path: Path) -> float:
    tracemalloc.start()
    run_import(user, path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def measure_import(rows_count: int, workdir: Path, villages: list[str], user) -> dict:
    rows = make_rows(rows_count, villages)
    big, small, text = workdir / "big.xlsx", workdir / "small.xlsx", workdir / "big.csv"
    write_xlsx(rows, big)
    write_xlsx(rows[:5001], small)
    write_csv(rows, text)
    del rows
    mib = [path.stat().st_size / 2**20 for path in (big, text)]
    log(f"import: {mib[0]:.1f} MiB xlsx, {mib[1]:.1f} MiB csv")
    first = run_import(user, big)
    log(f"import: first xlsx done in {first['seconds']:.1f} s")
    again = run_import(user, text)
    log(f"import: csv re-import done in {again['seconds']:.1f} s; now under tracemalloc")
    small_peak, big_peak = traced(user, small), traced(user, big)
    return {
        "xlsx": first,
        "csv_again": again,
        "peak_small_mib": small_peak,
        "peak_big_mib": big_peak,
        "maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


# --- inbox -------------------------------------------------------------------------------------

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" targetNamespace="http://fuzhu.example/b">
  <bpmn:process id="bench_inbox" name="基准" isExecutable="true">
    <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
    <bpmn:userTask id="t" name="复核" camunda:candidateGroups="township_staff" />
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e" /><bpmn:endEvent id="e" />
  </bpmn:process>
</bpmn:definitions>"""


def fill_tasks(count: int, owner) -> None:
    from django.utils import timezone

    from registry.models import OrgUnit
    from workflows.models import HumanTask, HumanTaskState, ProcessInstance, TaskCandidate
    from workflows.services.definitions import definition_deploy

    definition = definition_deploy(content=BPMN.encode(), user=owner).definition
    rng, now = random.Random(11), timezone.now()
    units = list(OrgUnit.objects.exclude(kind="county").values_list("code", "path", "kind"))
    townships = [u for u in units if u[2] in ("street", "town", "township")]
    villages = [u for u in units if u[2] in ("village", "community")]
    institutions = [u for u in units if len(u[0]) != 12]
    instances = ProcessInstance.objects.bulk_create(
        [
            ProcessInstance(
                definition=definition,
                business_key=f"B-{i}",
                scope=rng.choice(townships)[0],
                serialized_state="{}",
                created_at=now,
                updated_at=now,
            )
            for i in range(max(1, count // 100))
        ],
        batch_size=2000,
    )
    made = 0
    while made < count:
        tasks, roles = [], []
        for _ in range(min(5000, count - made)):
            roll = rng.random()
            if roll < 0.55:
                (code, path, _), role = rng.choice(townships), "township_staff"
            elif roll < 0.85:
                (code, path, _), role = rng.choice(villages), "village_officer"
            elif roll < 0.95:
                (code, path, _), role = rng.choice(institutions), "provider"
            else:
                (code, path, _), role = ("330102000000", "330102.", ""), "county_staff"
            tasks.append(
                HumanTask(
                    instance=rng.choice(instances),
                    task_id=uuid.uuid4(),
                    element_id="t",
                    name="复核",
                    process_key="bench_inbox",
                    candidate_roles=[role],
                    scope=code,
                    scope_path=path,
                    due_at=now + timedelta(hours=rng.randrange(1, 2000)),
                    created_at=now - timedelta(minutes=rng.randrange(100000)),
                    state=HumanTaskState.OPEN,
                )
            )
            roles.append(role)
        HumanTask.objects.bulk_create(tasks, batch_size=5000)
        TaskCandidate.objects.bulk_create(
            [TaskCandidate(task=t, role=r) for t, r in zip(tasks, roles, strict=True)],
            batch_size=5000,
        )
        made += len(tasks)
    log(f"inbox: {made:,} open tasks inserted")


def explain(backend: str, queryset) -> list[str]:
    from django.db import connection

    sql, params = queryset.query.sql_with_params()
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if backend == "postgresql" else "EXPLAIN QUERY PLAN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        return [" ".join(str(c) for c in r) for r in cursor.fetchall()]


def measure_inbox(backend: str, count: int, owner, township_user) -> dict:
    from django.core.paginator import Paginator
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from workflows.selectors.inbox import inbox_for_user

    fill_tasks(count, owner)
    if backend == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    def page(number: int) -> tuple[int, int]:
        tasks = Paginator(inbox_for_user(user=township_user), 50).get_page(number)
        return tasks.paginator.count, len(list(tasks.object_list))

    result: dict = {}
    for number in (1, 20):  # get_page: page 20 is the last page when there are fewer
        page(number)  # warm
        with CaptureQueriesContext(connection) as queries:
            total, shown = page(number)
        times = []
        for _ in range(30):
            began = time.perf_counter()
            page(number)
            times.append(time.perf_counter() - began)
        result[f"page{number}"] = {
            "queries": len(queries.captured_queries),
            "p50_ms": percentile(times, 0.5) * 1000,
            "p95_ms": percentile(times, 0.95) * 1000,
            "shown": shown,
        }
        result["matching"] = total
    queryset = inbox_for_user(user=township_user)
    result["plan_count"] = explain(backend, queryset.order_by().values("pk"))
    result["plan_page"] = explain(backend, queryset[:50])
    result["sql"] = str(queryset[:50].query)
    return result


def child(args) -> None:
    with tempfile.TemporaryDirectory(prefix="fuzhu-bench-registry-") as name:
        workdir = Path(name)
        try:
            use_database(args.backend, workdir)
            from django.contrib.auth import get_user_model
            from django.db import connection

            from registry.demo import demo_load
            from registry.models import OrgUnit
            from registry.services.memberships import membership_grant

            demo_load(persons=0)
            users = get_user_model().objects
            county = OrgUnit.objects.get(code="330102000000")
            clerk = users.create_user("bench_clerk")
            membership_grant(user=clerk, role="county_staff", org_unit=county)
            township_user = users.create_user("bench_township")
            membership_grant(
                user=township_user,
                role="township_staff",
                org_unit=OrgUnit.objects.get(code=TOWNSHIP),
            )
            villages = list(
                OrgUnit.objects.filter(kind__in=["village", "community"]).values_list(
                    "code", flat=True
                )
            )
            result = {
                "backend": args.backend,
                "vendor_version": connection.pg_version if args.backend == "postgresql" else 0,
            }
            if not args.only_inbox:
                result["import"] = measure_import(args.rows, workdir, villages, clerk)
            result["inbox"] = measure_inbox(
                args.backend, args.tasks, users.get(username="owner"), township_user
            )
        finally:
            from django.db import connections

            connections.close_all()
            if args.backend == "postgresql":
                pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
    print(json.dumps(result, ensure_ascii=False))


def print_report(results: dict, args, seconds: float) -> None:
    import django

    print(
        f"Fuzhu registry benchmark: import of {args.rows:,} rows, inbox with {args.tasks:,} open "
        f"tasks\nPython {platform.python_version()}, Django {django.get_version()}, "
        f"{os.cpu_count()} CPUs\n"
    )
    rows = [
        ("xlsx import, check (rows/s)", lambda r: r["import"]["xlsx"]["check_rows_per_s"], ".0f"),
        (
            "xlsx import, commit: new (rows/s)",
            lambda r: r["import"]["xlsx"]["commit_rows_per_s"],
            ".0f",
        ),
        (
            "xlsx import, end to end (rows/s)",
            lambda r: r["import"]["xlsx"]["total_rows_per_s"],
            ".0f",
        ),
        ("xlsx import, end to end (s)", lambda r: r["import"]["xlsx"]["seconds"], ".1f"),
        (
            "csv (GB18030) re-import, unchanged (rows/s)",
            lambda r: r["import"]["csv_again"]["total_rows_per_s"],
            ".0f",
        ),
        ("heap peak, 5,000-row import (MiB)", lambda r: r["import"]["peak_small_mib"], ".1f"),
        (
            f"heap peak, {args.rows:,}-row import (MiB)",
            lambda r: r["import"]["peak_big_mib"],
            ".1f",
        ),
        ("process max RSS (MiB)", lambda r: r["import"]["maxrss_mib"], ".0f"),
        ("inbox: tasks the township user may work", lambda r: r["inbox"]["matching"], ",d"),
        ("inbox page 1: SQL queries (page + count)", lambda r: r["inbox"]["page1"]["queries"], "d"),
        ("inbox page 1: p50 (ms)", lambda r: r["inbox"]["page1"]["p50_ms"], ".1f"),
        ("inbox page 1: p95 (ms)", lambda r: r["inbox"]["page1"]["p95_ms"], ".1f"),
        ("inbox page 20: SQL queries", lambda r: r["inbox"]["page20"]["queries"], "d"),
        ("inbox page 20: p50 (ms)", lambda r: r["inbox"]["page20"]["p50_ms"], ".1f"),
        ("inbox page 20: p95 (ms)", lambda r: r["inbox"]["page20"]["p95_ms"], ".1f"),
    ]
    names = list(results)
    header = f"{'metric':<48}" + "".join(f"{n:>14}" for n in names)
    print(header + "\n" + "-" * len(header))
    for label, get, fmt in rows:
        cells = ""
        for name in names:
            try:
                cells += f"{format(get(results[name]), fmt):>14}"
            except (KeyError, TypeError):
                cells += f"{'n/a':>14}"
        print(f"{label:<48}{cells}")
    for name in names:
        inbox = results[name].get("inbox", {})
        print(f"\n{name}: inbox page query plan (EXPLAIN{' ANALYZE' * (name == 'postgresql')})")
        for line in inbox.get("plan_page", []):
            print("  " + line)
        if name == "postgresql":
            print(f"{name}: inbox count query plan")
            for line in inbox.get("plan_count", []):
                print("  " + line)
    print(f"\nTotal run time: {seconds:.0f} s")


def parent(args) -> None:
    began, results = time.perf_counter(), {}
    for backend in args.backends:
        command = [sys.executable, __file__, "--backend", backend]
        command += ["--rows", str(args.rows), "--tasks", str(args.tasks)]
        command += ["--only-inbox"] if args.only_inbox else []
        log(f"running the {backend} child")
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
        if done.returncode == 0:
            results[backend] = json.loads(done.stdout.strip().splitlines()[-1])
        else:
            log(f"the {backend} child failed (exit {done.returncode}); see above")
    if results:
        print_report(results, args, time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, help="rows to import (50000; --quick 3000)")
    parser.add_argument("--tasks", type=int, help="open tasks for the inbox (200000; --quick 5000)")
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument("--only-inbox", action="store_true", help="skip the import figures")
    parser.add_argument(
        "--backends", nargs="+", default=["sqlite", "postgresql"], help=argparse.SUPPRESS
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.rows = args.rows or (3000 if args.quick else 50_000)
    args.tasks = args.tasks or (5000 if args.quick else 200_000)
    child(args) if args.backend else parent(args)


if __name__ == "__main__":
    main()
