"""Assistive-device fitting at scale. Prints figures, asserts nothing.

    .venv/bin/python bench/devices.py [--applications 1000] [--processes 4] [--threads 4]

On a throwaway PostgreSQL database (``fuzhu_bench_devices`` on 127.0.0.1:5432, created,
migrated, dropped): the demo county, the demo catalogue and agreements, a village officer per
village, assessors and providers per institution. ``--applications`` applications (adults and
the county's children, one per person) are worked concurrently by ``--processes`` forked worker
processes of ``--threads`` threads each (as gunicorn and Celery run), each application step by
step through the real services: registration, initial and second check, assignment,
assessment with a plan, county approval (the DMN decision tables decide the
subsidy), procurement, fitting, acceptance. Then the clock moves on: the monthly settlement
(a timer-started instance whose job settles every fitting and tells every case), and the
30-day follow-up visits, completed concurrently, after which every case has ended. Prints:

* completions per second (registrations and task completions, all workers together);
* step latency p50/p95/p99, overall and per step, with SQL statements per step;
* DMN evaluation time per decision (each evaluation of each decision table, timed inside
  SpiffWorkflow's DMN engine);
* the settlement job and the follow-up timer sweep: wall time and SQL.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
DB = "fuzhu_bench_devices"
PLANS = [  # (plan, service institution index in registry.demo)
    ([("FZ-YD-01", 1, 1580)], 3),
    ([("FZ-ZL-01", 1, 280), ("FZ-ZL-02", 1, 200)], 3),
    ([("FZ-XX-01", 1, 3200)], 3),
    ([("FZ-JZ-01", 1, 2100)], 4),
    ([("FZ-YD-01", 1, 1100)], 4),
]
CHILD_PLAN = ([("FZ-XX-02", 2, 8500), ("FZ-JJ-02", 1, 2600)], 3)


def pg_admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(statement)


def setup_django() -> None:
    pg_admin(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    pg_admin(f"CREATE DATABASE {DB}")
    os.environ["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{DB}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ.setdefault("FUZHU_VAR_DIR", "/tmp/fuzhu-bench-devices")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] if ordered else 0.0


class StatementCounter:
    """Counts the SQL statements a connection sends (transaction control left out)."""

    CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK")

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        if not sql.lstrip().upper().startswith(self.CONTROL):
            self.count += 1
        return execute(sql, params, many, context)


# --- timing the DMN engine ---------------------------------------------------------------------
# SpiffWorkflow evaluates a decision table in DMNEngine.result; the bench wraps it (the app never
# imports SpiffWorkflow outside workflows/engine).
DMN_TIMES: dict[str, list[float]] = defaultdict(list)  # wall time (waits for the GIL included)
DMN_CPU: dict[str, list[float]] = defaultdict(list)  # the evaluating thread's CPU time


def time_dmn() -> None:
    from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine

    original = DMNEngine.result

    def timed(self, task):
        began, cpu = time.perf_counter(), time.thread_time()
        try:
            return original(self, task)
        finally:
            DMN_TIMES[self.decision_table.id].append(time.perf_counter() - began)
            DMN_CPU[self.decision_table.id].append(time.thread_time() - cpu)

    DMNEngine.result = timed


# --- the county -------------------------------------------------------------------------------


def make_county(count: int):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from processes.devices.demo import demo_devices_load
    from processes.devices.services.rules import valid_certificate
    from registry.demo import demo_load, institution_codes
    from registry.models import Person
    from workflows.services.definitions import definition_deploy
    from workflows.services.roles import role_grant

    demo_load(persons=int(count * 1.4))
    demo_devices_load()
    for name in ("assistive_device_fitting", "assistive_device_settlement"):
        definition_deploy(
            content=(ROOT / "processes/bpmn" / f"{name}.bpmn").read_bytes(), user=None
        )
    today = timezone.localdate()
    persons = [
        p
        for p in Person.objects.select_related("household_unit__parent").filter(life_status="alive")
        if valid_certificate(p, today) is not None
    ][:count]
    users = get_user_model().objects
    staff: dict[str, object] = {}

    def user(name: str, role: str, unit: str):
        if name not in staff:
            staff[name] = users.create_user(name)
            role_grant(user=staff[name], role=role, org_unit=unit)
        return staff[name]

    codes = institution_codes()
    cases = []
    for index, person in enumerate(persons):
        village = person.household_unit
        child = (today - person.birth_date).days < 18 * 365
        plan, provider = CHILD_PLAN if child else PLANS[index % len(PLANS)]
        assessment = codes[1 + index % 2]
        cases.append(
            {
                "person": person,
                "plan": plan,
                "village": user(f"v_{village.code}", "village_officer", village.code),
                "township": user(f"t_{village.parent.code}", "township_staff", village.parent.code),
                "county": user(f"county_{index % 4}", "county_staff", "330102000000"),
                "assessment": assessment,
                "assessor": user(f"a_{assessment}_{index % 2}", "assessor", assessment),
                "provider_code": codes[provider],
                "provider": user(f"p_{codes[provider]}_{index % 2}", "provider", codes[provider]),
            }
        )
    return cases


# --- working the steps --------------------------------------------------------------------------


class Steps:
    """Latency and SQL of every step, by kind, from every worker thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.sql: dict[str, list[int]] = defaultdict(list)
        self.errors: list[str] = []

    def run(self, kind: str, action):
        from django.db import connection

        counter = StatementCounter()
        began = time.perf_counter()
        with connection.execute_wrapper(counter):
            result = action()
        elapsed = time.perf_counter() - began
        with self.lock:
            self.latency[kind].append(elapsed)
            self.sql[kind].append(counter.count)
        return result


def complete(steps: Steps, application, element: str, user, **data) -> None:
    from workflows.models import HumanTask
    from workflows.services.tasks import task_complete

    def act():
        task = HumanTask.objects.only("pk").get(
            instance_id=application.instance_id, element_id=element, state="open"
        )
        task_complete(task_id=task.pk, user=user, data=data)

    steps.run(element, act)


def work_case(steps: Steps, case: dict):
    from processes.devices.services.applications import application_register

    person = case["person"]
    application = steps.run(
        "register",
        lambda: application_register(
            user=case["village"],
            citizen_id=person.citizen_id,
            reason="功能障碍，申请适配",
            requested_devices=[code for code, _, _ in case["plan"]],
        ),
    )
    complete(
        steps, application, "initial_check", case["village"], decision="approve", opinion="属实"
    )
    complete(
        steps, application, "second_check", case["township"], decision="approve", opinion="同意"
    )
    complete(
        steps,
        application,
        "assign_assessment",
        case["county"],
        assessment_institution=case["assessment"],
    )
    plan = [{"device_code": c, "quantity": q, "unit_price": p} for c, q, p in case["plan"]]
    complete(
        steps, application, "record_assessment", case["assessor"], assessment="评估", plan=plan
    )
    complete(steps, application, "approve_plan", case["county"], decision="approve", opinion="同意")
    complete(
        steps,
        application,
        "choose_provider",
        case["county"],
        service_institution=case["provider_code"],
    )
    from django.utils import timezone

    complete(
        steps,
        application,
        "record_fitting",
        case["provider"],
        delivered_on=timezone.localdate().isoformat(),
        fitting_notes="适配",
        training_notes="训练",
    )
    complete(
        steps,
        application,
        "confirm_acceptance",
        case["village"],
        acceptance="accepted",
        confirmed_by="person",
    )
    return application


def concurrently(workers: int, items, work, steps: Steps) -> tuple[list, float]:
    from django.db import connection

    def guarded(item):
        try:
            return work(item)
        except Exception as exc:  # noqa: BLE001 - counted and shown, the bench goes on
            with steps.lock:
                steps.errors.append(f"{type(exc).__name__}: {exc}")
            return None
        finally:
            connection.close()

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(guarded, items))
    return results, time.perf_counter() - began


def measured(action) -> tuple[object, float, int]:
    from django.db import connection

    counter = StatementCounter()
    began = time.perf_counter()
    with connection.execute_wrapper(counter):
        result = action()
    return result, time.perf_counter() - began, counter.count


# --- worker processes ---------------------------------------------------------------------------
# The portal and the job workers run as several processes (gunicorn, Celery); so does the bench:
# forked after the county is made, each with its own database connections and threads.
CASES: list[dict] = []


def _phase(job: tuple) -> dict:
    """One worker process's share of a phase; returns its figures (pickled to the parent)."""
    import time_machine

    phase, index, processes, threads, moment = job
    DMN_TIMES.clear()  # a fork inherits what the parent merged from earlier phases
    DMN_CPU.clear()
    steps = Steps()
    share = CASES[index::processes]
    with time_machine.travel(moment, tick=True) if moment else _no_travel():
        if phase == "apply":
            results, _ = concurrently(threads, share, lambda case: work_case(steps, case), steps)
        else:
            results, _ = concurrently(threads, share, lambda case: follow_up(steps, case), steps)
    return {
        "ok": sum(1 for r in results if r is not None),
        "latency": dict(steps.latency),
        "sql": dict(steps.sql),
        "errors": steps.errors,
        "dmn": dict(DMN_TIMES),
        "dmn_cpu": dict(DMN_CPU),
    }


class _no_travel:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def in_processes(phase: str, processes: int, threads: int, steps: Steps, moment=None) -> float:
    """Run a phase over every case in ``processes`` forked processes; merge their figures."""
    import multiprocessing

    from django.db import connections

    connections.close_all()  # a forked child must not share the parent's connections
    began = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        parts = pool.map(_phase, [(phase, i, processes, threads, moment) for i in range(processes)])
    wall = time.perf_counter() - began
    for part in parts:
        for kind, values in part["latency"].items():
            steps.latency[kind] += values
            steps.sql[kind] += part["sql"][kind]
        steps.errors += part["errors"]
        for table, values in part["dmn"].items():
            DMN_TIMES[table] += values
            DMN_CPU[table] += part["dmn_cpu"][table]
    return wall


def follow_up(steps: Steps, case: dict):
    from django.utils import timezone

    from processes.devices.models import DeviceApplication

    application = DeviceApplication.objects.get(person=case["person"])
    complete(
        steps,
        application,
        "follow_up_visit",
        case["provider"],
        visited_on=timezone.localdate().isoformat(),
        outcome="close",
        findings="使用良好",
    )
    return application


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=4, help="worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker process")
    args = parser.parse_args()
    setup_django()
    time_dmn()
    import time_machine
    from django.utils import timezone

    from processes.devices.models import ApplicationState, DeviceApplication, SettlementLine
    from workflows.models import InstanceState, ProcessInstance
    from workflows.services.jobs import job_run, jobs_sweep
    from workflows.services.timers import timers_fire_due

    try:
        CASES.extend(make_county(args.applications))
        children = sum(1 for c in CASES if c["plan"] is CHILD_PLAN[0])
        concurrency = args.processes * args.threads
        print(
            f"applications: {len(CASES):,} ({children} children); {args.processes} processes × "
            f"{args.threads} threads = {concurrency} at once; PostgreSQL {DB}"
        )
        steps = Steps()
        first_wall = in_processes("apply", args.processes, args.threads, steps)

        # The 1st of next month: the monthly settlement, then the follow-up visits 30 days on.
        now = timezone.localtime()
        first = (now.replace(day=1) + timedelta(days=32)).replace(day=1, hour=3, minute=0)
        with time_machine.travel(first, tick=True):
            started, start_seconds, start_sql = measured(lambda: timers_fire_due(limit=100_000))
            ran, settle_seconds, settle_sql = measured(
                lambda: [job_run(job_id=j) for j in jobs_sweep()]
            )
        follow_up_day = max(first, now + timedelta(days=31)) + timedelta(hours=1)
        with time_machine.travel(follow_up_day, tick=True):
            fired, sweep_seconds, sweep_sql = measured(lambda: timers_fire_due(limit=100_000))
        second_wall = in_processes(
            "follow_up", args.processes, args.threads, steps, moment=follow_up_day
        )

        all_latency = [x for values in steps.latency.values() for x in values]
        count = len(all_latency)
        wall = first_wall + second_wall
        print(f"steps completed: {count:,} in {wall:.1f} s: {count / wall:,.1f} completions/s")
        print(
            f"step latency: p50 {percentile(all_latency, 0.5) * 1000:.1f} ms, "
            f"p95 {percentile(all_latency, 0.95) * 1000:.1f} ms, "
            f"p99 {percentile(all_latency, 0.99) * 1000:.1f} ms"
        )
        total_sql = sum(sum(v) for v in steps.sql.values())
        print(f"SQL per step: {total_sql / max(count, 1):.1f} on average")
        print(f"  {'step':<20}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'SQL/step':>10}")
        for kind, values in steps.latency.items():
            sql = steps.sql[kind]
            print(
                f"  {kind:<20}{len(values):>6}{percentile(values, 0.5) * 1000:>9.1f}"
                f"{percentile(values, 0.95) * 1000:>9.1f}{sum(sql) / len(sql):>10.1f}"
            )
        print("DMN evaluation per decision (inside SpiffWorkflow's DMN engine):")
        for table, values in sorted(DMN_TIMES.items()):
            mean, cpu = sum(values) / len(values) * 1e3, DMN_CPU[table]
            print(
                f"  {table:<28}{len(values):>6} evaluations  wall mean {mean:.3f} ms, "
                f"p95 {percentile(values, 0.95) * 1e3:.3f} ms; CPU mean "
                f"{sum(cpu) / len(cpu) * 1e3:.3f} ms, p95 {percentile(cpu, 0.95) * 1e3:.3f} ms"
            )
        lines = SettlementLine.objects.count()
        print(
            f"monthly settlement: timer start {start_seconds * 1000:.0f} ms ({start_sql} SQL); "
            f"job {settle_seconds:.1f} s ({settle_sql:,} SQL) settled {lines:,} fittings and "
            f"told their cases"
        )
        print(
            f"follow-up timers: {fired:,} cases advanced in {sweep_seconds:.1f} s "
            f"({sweep_sql / max(fired, 1):.1f} SQL per case)"
        )
        ended = ProcessInstance.objects.filter(
            definition__key="assistive_device_fitting", state=InstanceState.COMPLETED
        ).count()
        closed = DeviceApplication.objects.filter(state=ApplicationState.CLOSED).count()
        print(
            f"cases ended: {ended:,}; applications closed: {closed:,}; errors: {len(steps.errors)}"
        )
        for error in steps.errors[:3]:
            print(f"  {error}")
        assert started is not None and ran is not None
    finally:
        from django.db import connections

        connections.close_all()
        pg_admin(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")


if __name__ == "__main__":
    main()
