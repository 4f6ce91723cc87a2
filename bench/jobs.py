"""Jobs and timers benchmark through real Celery. Prints figures, asserts nothing.

    .venv/bin/python bench/jobs.py [--jobs 1000] [--rounds 2] [--timers 300] [--spread 10]
                                   [--sweep-seconds 1] [--quick]

Needs PostgreSQL on 127.0.0.1:5432 (database ``fuzhu_bench_jobs`` is created, migrated and dropped)
and Redis on 127.0.0.1:6379 (database 6 is flushed). Workers (solo pool, one at a time each) and
beat run as ``celery -A config`` subprocesses on that database, with this module registering the
no-op async handler ``bench_noop`` (``FUZHU_EXTRA_HANDLER_MODULES=bench.jobs``).

* jobs/s: --jobs instances wait on an async service task (start → service → end); their jobs
  are handed to Celery with ``run_job.delay`` (what the commit hook does) and run by 1, then by
  2 workers, --rounds times alternately; time from the first send to the last Job row done.
  Ratio = best of 2 workers / best of 1 worker.
* timer lag: --timers instances, started evenly over --spread seconds, wait on a PT5S timer while
  2 workers and beat run the sweep every --sweep-seconds. Recorded lag = TIMER_FIRED audit event
  time − Timer.fire_at (the event carries the moment its sweep began); observed lag = when this
  process first saw the instance completed (polling every 20 ms) − Timer.fire_at.
* sweep cost: ``timers_fire_due()`` under CaptureQueriesContext with 1,000 and 10,000 waiting
  timers not due for 30 days (bulk-inserted copies of a real waiting instance), with no timer due
  and with 20 due; the whole sweep task body likewise; then EXPLAIN (ANALYZE) of the due-timer
  query exactly as the sweep sent it.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workflows import extensions  # noqa: E402 - after the path is set, for a direct run

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
PG_DB = "fuzhu_bench_jobs"
DATABASE_URL = f"postgresql://postgres@127.0.0.1:5432/{PG_DB}"
BROKER_URL = "redis://127.0.0.1:6379/6"
TOPIC = "bench_noop"
TX_CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK")
WAITING_SCALES = (1_000, 10_000)
DUE_PROBE = 20


@extensions.service_handler(TOPIC, label="基准空操作", asynchronous=True)
def noop(variables: dict) -> dict:
    return {"ok": True}


def diagram(key: str, body: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs"
  targetNamespace="http://fuzhu.example/bpmn">
  <bpmn:process id="{key}" name="{key}" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="step" />
    {body}
    <bpmn:sequenceFlow id="f2" sourceRef="step" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>""".encode()


SERVICE = (
    f'<bpmn:serviceTask id="step" name="空操作" camunda:asyncBefore="true" '
    f'camunda:type="external" camunda:topic="{TOPIC}" />'
)


def timer(duration: str) -> str:
    return (
        '<bpmn:intermediateCatchEvent id="step" name="等待"><bpmn:timerEventDefinition>'
        f"<bpmn:timeDuration>{duration}</bpmn:timeDuration>"
        "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
    )


DIAGRAMS = {
    "bench_job": diagram("bench_job", SERVICE),
    "bench_timer": diagram("bench_timer", timer("PT5S")),
    "bench_timer_far": diagram("bench_timer_far", timer("P30D")),
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


# --- Services and processes ----------------------------------------------------------------------


def pg_admin(*statements: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def flush_broker() -> None:
    import redis

    with redis.Redis.from_url(BROKER_URL) as client:
        client.flushdb()


class Celery:
    """Workers and beat as subprocesses on the bench database, logging to ``workdir``."""

    def __init__(self, workdir: Path, sweep_seconds: int):
        self.workdir = workdir
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CELERY_")}
        self.env.update(
            CELERY_BROKER_URL=BROKER_URL,
            FUZHU_JOB_DISPATCH="celery",
            FUZHU_SWEEP_SECONDS=str(sweep_seconds),
            FUZHU_EXTRA_HANDLER_MODULES="bench.jobs",
        )
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, role: str, name: str) -> None:
        command = [sys.executable, "-m", "celery", "-A", "config", role, "--loglevel", "info"]
        if role == "worker":
            command += ["--pool=solo", "--concurrency=1", f"--hostname={name}@%h"]
            command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        with open(self.workdir / f"{name}.log", "wb") as out:
            self.processes[name] = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        mark = " ready." if role == "worker" else "beat: Starting..."
        deadline = time.monotonic() + 90
        while mark not in (self.workdir / f"{name}.log").read_text(errors="replace"):
            if self.processes[name].poll() is not None or time.monotonic() > deadline:
                sys.exit(f"{name} did not start; see {self.workdir / f'{name}.log'}")
            time.sleep(0.2)

    def stop(self) -> None:
        for process in self.processes.values():
            process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()


def set_up(workdir: Path) -> dict:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DJANGO_DEBUG="0",
        DATABASE_URL=DATABASE_URL,
        FUZHU_VAR_DIR=str(workdir),
        FUZHU_JOB_DISPATCH="poll",  # this process hands jobs to Celery itself, when timed
        CELERY_BROKER_URL=BROKER_URL,
    )
    pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)", f"CREATE DATABASE {PG_DB}")
    flush_broker()
    import django
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, skip_checks=True)

    from workflows.services.definitions import definition_deploy
    from workflows.services.roles import role_grant

    owner = get_user_model().objects.create_user("owner")
    role_grant(user=owner, role="process_owner", org_unit="")
    for content in DIAGRAMS.values():
        definition_deploy(content=content, user=owner)
    return {"owner": owner}


def start_instances(key: str, count: int) -> list[int]:
    from workflows.services.instances import instance_start

    return [instance_start(process_key=key, user=None, org_unit="").pk for _ in range(count)]


# --- Measurements --------------------------------------------------------------------------------


def jobs_per_second(celery: Celery, workers: int, count: int) -> dict:
    from workflows.models import Job, JobState
    from workflows.tasks import run_job

    ids = list(
        Job.objects.filter(instance__in=start_instances("bench_job", count)).values_list(
            "pk", flat=True
        )
    )
    for n in range(1, workers + 1):
        celery.start("worker", f"jobs{workers}-{n}")
    began = time.perf_counter()
    for job_id in ids:
        run_job.delay(job_id)
    while Job.objects.filter(pk__in=ids, state=JobState.DONE).count() < len(ids):
        time.sleep(0.05)
    seconds = time.perf_counter() - began
    celery.stop()
    rerun = Job.objects.filter(pk__in=ids, attempts__gt=1).count()
    log(f"{workers} worker(s): {count} jobs in {seconds:.1f} s ({rerun} ran more than once)")
    return {"jobs": count, "seconds": seconds, "rate": count / seconds, "rerun": rerun}


def timer_lag(celery: Celery, count: int, spread: float) -> dict:
    from django.utils import timezone

    from workflows.models import AuditEvent, AuditKind, InstanceState, ProcessInstance, Timer

    for name in ("lag-1", "lag-2"):
        celery.start("worker", name)
    celery.start("beat", "lag-beat")
    ids: list[int] = []
    seen: dict[int, object] = {}
    began = time.perf_counter()
    created_in = 0.0
    while len(seen) < count and time.perf_counter() < began + spread + 120:
        # Start each instance at its moment, so the due moments spread evenly over ``spread`` s.
        while len(ids) < count and time.perf_counter() >= began + len(ids) * spread / count:
            ids += start_instances("bench_timer", 1)
            created_in = time.perf_counter() - began
        now = timezone.now()
        done = ProcessInstance.objects.filter(pk__in=ids, state=InstanceState.COMPLETED)
        for pk in done.exclude(pk__in=list(seen)).values_list("pk", flat=True):
            seen[pk] = now
        time.sleep(0.02)
    celery.stop()
    due = dict(Timer.objects.filter(instance__in=ids).values_list("instance_id", "fire_at"))
    fired = AuditEvent.objects.filter(instance__in=ids, kind=AuditKind.TIMER_FIRED)
    recorded = [
        (at - due[pk]).total_seconds() for pk, at in fired.values_list("instance", "created_at")
    ]
    observed = [(at - due[pk]).total_seconds() for pk, at in seen.items()]
    log(f"timer lag: {len(recorded)} of {count} fired, created in {created_in:.1f} s")
    return {
        "count": count,
        "fired": len(recorded),
        "fire_events": fired.count(),
        "created_in": created_in,
        "recorded": recorded,
        "observed": observed,
    }


def add_waiting_copies(count: int, template_pk: int) -> None:
    """``count`` more instances waiting on a timer 30 days out: copies of a real one."""
    from django.db import transaction

    from workflows.models import ProcessInstance, Timer

    template = ProcessInstance.objects.get(pk=template_pk)
    [template_timer] = Timer.objects.filter(instance=template)
    fields = [f.attname for f in ProcessInstance._meta.concrete_fields if f.attname != "id"]
    values = {name: getattr(template, name) for name in fields}
    with transaction.atomic():
        copies = ProcessInstance.objects.bulk_create(
            (ProcessInstance(**{**values, "uuid": uuid.uuid4()}) for _ in range(count)),
            batch_size=2000,
        )
        Timer.objects.bulk_create(
            (
                Timer(
                    instance_id=copy.pk,
                    task_id=template_timer.task_id,
                    element_id=template_timer.element_id,
                    fire_at=template_timer.fire_at,
                    created_at=template_timer.created_at,
                )
                for copy in copies
            ),
            batch_size=5000,
        )


def measured(func, *, repeat: int) -> tuple[int, float, list[str]]:
    """Data statements of one call and its median wall time over ``repeat`` calls."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            func()
            times.append(time.perf_counter() - began)
    sql = [q["sql"] for q in captured.captured_queries]
    data = [s for s in sql if not s.lstrip().upper().startswith(TX_CONTROL)]
    return len(data), percentile(times, 0.5) * 1000, data


def sweep_cost(quick: bool) -> dict:
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from workflows.models import Timer, TimerState
    from workflows.services.timers import timers_fire_due
    from workflows.tasks import sweep

    [template_pk] = start_instances("bench_timer_far", 1)
    out = {}
    for scale in WAITING_SCALES:
        have = Timer.objects.filter(state=TimerState.WAITING).count()
        add_waiting_copies(scale - have, template_pk)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # what autovacuum would do after a bulk insert
        waiting = Timer.objects.filter(state=TimerState.WAITING).count()
        idle_queries, idle_ms, idle_sql = measured(timers_fire_due, repeat=5 if quick else 30)
        task_queries, task_ms, _ = measured(sweep, repeat=5 if quick else 30)
        start_instances("bench_timer", DUE_PROBE)  # PT5S: due when the sweep looks 10 s ahead
        later = timezone.now() + timedelta(seconds=10)
        due_queries, due_ms, _ = measured(lambda at=later: timers_fire_due(now=at), repeat=1)
        out[scale] = {
            "waiting": waiting,
            "idle": (idle_queries, idle_ms),
            "task": (task_queries, task_ms),
            "due": (due_queries, due_ms),
            "due_sql": idle_sql[0],
        }
        log(f"sweep with {waiting:,} waiting: {idle_queries} queries, {idle_ms:.2f} ms")
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + out[WAITING_SCALES[-1]]["due_sql"])
        out["plan"] = [row[0] for row in cursor.fetchall()]
    return out


# --- Report --------------------------------------------------------------------------------------


def report(args, rates: dict, lag: dict, sweep: dict, seconds: float) -> None:
    def ms(values: list[float], fraction: float) -> str:
        return f"{percentile(values, fraction) * 1000:,.0f} ms" if values else "-"

    print(f"Fuzhu jobs and timers through Celery — {platform.node()}, {os.cpu_count()} CPUs,")
    print(f"PostgreSQL {PG_DB}, Redis {BROKER_URL}, workers --pool=solo, {seconds:.0f} s in all")
    load = ", ".join(f"{x:.2f}" for x in args.load_before)
    print(f"load average before: {load} (other work on the machine skews every figure)\n")
    print("Jobs through run_job.delay → worker → instance continues (no-op handler), per round")
    best = {}
    for workers, runs in rates.items():
        best[workers] = max(run["rate"] for run in runs)
        figures = "  ".join(f"{run['rate']:>6.1f}" for run in runs)
        print(
            f"  {workers} worker{'s' if workers > 1 else ' '}  {runs[0]['jobs']:>6,} jobs:  "
            f"{figures} jobs/s  best {best[workers]:.1f}   "
            f"ran twice: {sum(run['rerun'] for run in runs)}"
        )
    print(f"  scaling 2 workers / 1 worker (best of each): {best[2] / best[1]:.2f}×\n")
    print(
        f"Timer fire lag, {lag['count']} PT5S timers started over {lag['created_in']:.1f} s, "
        f"beat sweeping every {args.sweep_seconds} s, 2 workers"
    )
    print(f"  fired {lag['fired']}/{lag['count']}, TIMER_FIRED events {lag['fire_events']}")
    for label in ("recorded", "observed"):
        values = lag[label]
        print(
            f"  {label:<9} p50 {ms(values, 0.5):>8}  p95 {ms(values, 0.95):>8}  "
            f"max {ms(values, 1.0):>8}"
        )
    print("  (recorded: the event's time, when its sweep began; observed: seen done from here)")
    print("\nSweep cost against waiting timers not yet due (median wall time, data statements)")
    print("  waiting    timers_fire_due()     whole sweep task     with 20 due")
    for scale in WAITING_SCALES:
        row = sweep[scale]
        (iq, ims), (tq, tms), (dq, dms) = row["idle"], row["task"], row["due"]
        print(
            f"  {row['waiting']:>7,}   {iq:>3} q  {ims:>7.2f} ms   {tq:>3} q  {tms:>7.2f} ms   "
            f"{dq:>4} q  {dms:>8.1f} ms"
        )
    print(f"\nEXPLAIN (ANALYZE, BUFFERS) of the due-timer query, {WAITING_SCALES[-1]:,} waiting:")
    print("  " + sweep[WAITING_SCALES[-1]]["due_sql"])
    for line in sweep["plan"]:
        print("    " + line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1000, help="jobs per worker count")
    parser.add_argument("--rounds", type=int, default=2, help="jobs/s rounds per worker count")
    parser.add_argument("--timers", type=int, default=300, help="timers for the lag figure")
    parser.add_argument("--sweep-seconds", type=int, default=1, help="beat's sweep interval")
    parser.add_argument("--spread", type=float, default=10, help="seconds to start the timers")
    parser.add_argument("--quick", action="store_true", help="200 jobs, 60 timers")
    args = parser.parse_args()
    if args.quick:
        args.jobs, args.timers, args.spread, args.rounds = 200, 60, 3, 1
    args.load_before = os.getloadavg()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fuzhu-bench-jobs-") as tmp:
        workdir = Path(tmp)
        set_up(workdir)
        celery = Celery(workdir, args.sweep_seconds)
        try:
            rates: dict[int, list[dict]] = {1: [], 2: []}
            for _ in range(args.rounds):  # alternate, so a busy spell hits both alike
                for workers in rates:
                    rates[workers].append(jobs_per_second(celery, workers, args.jobs))
            lag = timer_lag(celery, args.timers, args.spread)
            sweep = sweep_cost(args.quick)
        finally:
            celery.stop()
            from django.db import connections

            connections.close_all()
            pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
            flush_broker()
        report(args, rates, lag, sweep, time.perf_counter() - began)


if __name__ == "__main__":
    main()
