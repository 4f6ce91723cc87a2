"""Petition deadlines at scale. Prints figures, asserts nothing.

    .venv/bin/python bench/petitions.py [--petitions 10000]

On a throwaway PostgreSQL database (``fuzhu_bench_petitions`` on 127.0.0.1:5432, created,
migrated, dropped), registers --petitions petitions through the real service (each starts a
``petition_first_receiver`` instance with its acceptance timer and due date), then:

* registration throughput (petitions/s);
* the daily deadline sweep (``timers_fire_due`` + ``deadlines_sweep``) on a day when nothing is
  due, and on the day a tenth of them pass their 15-day acceptance limit: wall time and SQL
  statements (the sweep's cost must follow what is due, not what is open);
* the petition office's inbox (first page of 50 with its count) p50/p95 and SQL per page, once
  the overdue petitions have created their supervision tasks.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
DB = "fuzhu_bench_petitions"


def pg_admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(statement)


def setup_django() -> None:
    pg_admin(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    pg_admin(f"CREATE DATABASE {DB}")
    os.environ["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{DB}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ.setdefault("FUZHU_VAR_DIR", "/tmp/fuzhu-bench-petitions")
    os.environ["DJANGO_DEBUG"] = "0"  # no query log growing behind the measurements
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class StatementCounter:
    """Counts SQL data statements (not BEGIN/COMMIT/SAVEPOINT) without Django's bounded log."""

    CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK")

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        if not sql.lstrip().upper().startswith(self.CONTROL):
            self.count += 1
        return execute(sql, params, many, context)


def make_staff():
    from django.contrib.auth import get_user_model

    from registry.demo import TOWNSHIPS, demo_load
    from workflows.services.definitions import definition_deploy
    from workflows.services.roles import role_grant

    demo_load(persons=0)  # the demo county's org units (and its staff, unused here)
    townships = [f"330102{suffix}000" for suffix, *_ in TOWNSHIPS]

    users = get_user_model().objects
    owner = users.create_user("bench_owner")
    role_grant(user=owner, role="process_owner")
    office = users.create_user("bench_xinfang")
    role_grant(user=office, role="petition_office", org_unit="330102000000")
    receivers = []
    for code in townships:
        user = users.create_user(f"staff_{code}")
        role_grant(user=user, role="township_staff", org_unit=code)
        receivers.append(user)
    diagram = ROOT / "processes" / "bpmn" / "petition_first_receiver.bpmn"
    definition_deploy(content=diagram.read_bytes(), user=owner)
    return office, receivers


def register_all(count: int, receivers, start: datetime) -> float:
    import time_machine

    from processes.petitions.services import petition_register

    began = time.perf_counter()
    # A tenth of them on the first day; the rest spread over the following month.
    for n in range(count):
        day = 0 if n % 10 == 0 else 1 + n % 30
        with time_machine.travel(start + timedelta(days=day, seconds=n % 3600), tick=False):
            petition_register(
                user=receivers[n % len(receivers)],
                channel="letter",
                petitioner_name=f"信访人{n}",
                subject=f"事项{n}",
                content="反映补贴发放问题",
            )
    return count / (time.perf_counter() - began)


def sweep_at(moment: datetime) -> tuple[float, int, int, int]:
    import time_machine
    from django.db import connection

    from workflows.services.deadlines import deadlines_sweep
    from workflows.services.timers import timers_fire_due

    counter = StatementCounter()
    with time_machine.travel(moment, tick=False), connection.execute_wrapper(counter):
        began = time.perf_counter()
        fired = timers_fire_due(limit=100_000)
        reminded, escalated = deadlines_sweep()
        seconds = time.perf_counter() - began
    return seconds, counter.count, fired, reminded + escalated


def inbox_figures(office, samples: int = 50) -> tuple[float, float, int, int]:
    from django.db import connection

    from workflows.selectors.inbox import inbox_for_user

    timings, statements, total = [], 0, 0
    for _ in range(samples):
        counter = StatementCounter()
        with connection.execute_wrapper(counter):
            began = time.perf_counter()
            tasks = inbox_for_user(user=office)
            total = tasks.count()
            page = list(tasks[:50])
            timings.append(time.perf_counter() - began)
        statements = counter.count
    assert page is not None
    return percentile(timings, 0.5) * 1000, percentile(timings, 0.95) * 1000, statements, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--petitions", type=int, default=10_000)
    args = parser.parse_args()
    setup_django()
    from django.utils import timezone

    tz = timezone.get_current_timezone()
    start = datetime(2025, 3, 3, 9, 0, tzinfo=tz)
    office, receivers = make_staff()
    began = time.perf_counter()
    rate = register_all(args.petitions, receivers, start)
    print(f"petitions registered: {args.petitions:,} at {rate:,.0f}/s")
    quiet = sweep_at(start + timedelta(days=5))
    busy = sweep_at(start + timedelta(days=16, hours=1))
    again = sweep_at(start + timedelta(days=16, hours=2))
    print("daily sweep (timers + reminders/escalations):")
    for label, (seconds, sql, fired, marked) in (
        ("nothing due", quiet),
        ("a tenth overdue", busy),
        ("right after", again),
    ):
        print(
            f"  {label:<16} {seconds * 1000:9.1f} ms  {sql:6d} SQL  "
            f"{fired:5d} instances advanced  {marked:5d} reminded/escalated"
        )
    p50, p95, sql, total = inbox_figures(office)
    print(
        f"petition office inbox ({total:,} open tasks it may work): "
        f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, {sql} SQL per page (target: constant)"
    )
    print(f"total run: {time.perf_counter() - began:.0f} s")
    from django.db import connections

    connections.close_all()
    pg_admin(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")


if __name__ == "__main__":
    main()
