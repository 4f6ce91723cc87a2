"""Engine benchmark: how fast Fuzhu drives the six-step fixture. Prints figures, asserts nothing.

    .venv/bin/python bench/engine.py [--instances 1000] [--finished 100000] [--quick]

The parent runs one child per backend (Django reads its settings once per process), each on a
throwaway database (a temp SQLite file; ``fuzhu_bench_<pid>`` on 127.0.0.1:5432, created,
migrated, dropped), and prints one table. Per backend, with tests/fixtures/bpmn/six_steps.bpmn:

* starts/s: ``instance_start`` of --instances instances.
* completions/s, p50/p95: all their tasks completed round-robin with ``task_complete`` by the user
  holding the task's candidate role; latency = wall time around that one call.
* SQL per completion: a separate sample run under CaptureQueriesContext; data statements counted
  apart from BEGIN/COMMIT/SAVEPOINT/RELEASE.
* state size: bytes of ProcessInstance.serialized_state, after the starts and after every round.
* bare baseline: the same work done by bare SpiffWorkflow in memory, no Django or DB (parse
  once with its CamundaParser; per completion deserialize_json, run the task and the engine
  steps, serialize_json with its stock serializer). Ratio = our p50 / bare p50. For
  information, the project's own engine layer in memory too (DefinitionRuntime load +
  complete_user_task + dump; it leaves the specs out of the state).
* history: p50 completion with 1,000 and with --finished finished instances in the database
  (bulk-inserted copies of a real finished instance: 6 completed tasks with candidate rows and
  8 hash-chained audit events each).
* PostgreSQL only: completions/s of two client processes (own connection each, disjoint
  instances) against one client, on the same database.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from statistics import fmean

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DIAGRAM = ROOT / "tests" / "fixtures" / "bpmn" / "six_steps.bpmn"
KEY = "six_steps"
COUNTY, TOWNSHIP = "330102000000", "330102101000"
START_VARS = {"applicant": "张三", "rejected": False}  # the gateway after step 2 reads `rejected`
TASK_DATA = {"comment": "同意"}
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
PG_DB = f"fuzhu_bench_{os.getpid()}"  # per child: two runs at once must not drop each other's
TX_CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK")
SMALL_HISTORY = 1000
INSERT_CHUNK = 2500  # finished instances per transaction
HASHED = ("sequence", "created_at", "actor", "kind", "task_id", "element_id", "payload")


def log(message: str) -> None:
    stamp = time.strftime("%H:%M:%S", time.gmtime())
    load = os.getloadavg()[0]  # other work on the machine skews every figure
    print(f"[{stamp} UTC, load {load:.2f}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def p50_ms(values: list[float]) -> float:
    return percentile(values, 0.5) * 1000


# --- Database and fixtures ---------------------------------------------------------------------


def pg_admin(*statements: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def use_database(backend: str, workdir: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    os.environ["DJANGO_DEBUG"] = "0"  # DEBUG logs every query, which would slow every call
    os.environ["FUZHU_VAR_DIR"] = str(workdir)
    if backend == "sqlite":
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    else:
        pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)", f"CREATE DATABASE {PG_DB}")
        os.environ["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{PG_DB}"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, skip_checks=True)


def make_users_and_deploy() -> dict:
    """The owner deploys the fixture; returns the workers by role."""
    from django.apps import apps
    from django.contrib.auth import get_user_model

    if apps.is_installed("registry"):  # its scope resolver knows only the org units it holds
        from registry.models import OrgUnitKind
        from registry.services.org_units import org_unit_create

        org_unit_create(code=COUNTY, name="清溪县", kind=OrgUnitKind.COUNTY, parent_code="")
        org_unit_create(code=TOWNSHIP, name="城关镇", kind=OrgUnitKind.TOWN, parent_code="")

    from workflows.services.definitions import definition_deploy
    from workflows.services.roles import role_grant

    def user(name: str, role: str, org_unit: str):
        person = get_user_model().objects.create_user(name)
        role_grant(user=person, role=role, org_unit=org_unit)
        return person

    definition_deploy(content=DIAGRAM.read_bytes(), user=user("owner", "process_owner", ""))
    return {
        "township_staff": user("township", "township_staff", TOWNSHIP),
        "county_staff": user("county", "county_staff", COUNTY),
        "finance": user("finance", "finance", COUNTY),
    }


# --- Driving instances through the services ------------------------------------------------------


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)  # seconds per task_complete
    statements: list[tuple[int, int]] = field(default_factory=list)  # (data, tx control)
    sizes: list[int] = field(default_factory=list)  # serialized_state bytes
    busy: float = 0.0  # time inside the completion loops
    elapsed: float = 0.0  # including the driver's look-ups


def start_instances(count: int, users: dict, tag: str) -> tuple[list[int], float]:
    from workflows.services.instances import instance_start

    common = {"process_key": KEY, "org_unit": TOWNSHIP, "variables": START_VARS}
    began, user = time.perf_counter(), users["township_staff"]
    ids = [instance_start(user=user, business_key=f"{tag}-{i}", **common).pk for i in range(count)]
    return ids, time.perf_counter() - began


def state_sizes(ids: list[int]) -> list[int]:
    from workflows.models import ProcessInstance

    states = ProcessInstance.objects.filter(pk__in=ids).values_list("serialized_state", flat=True)
    return [len(s.encode()) for s in states]


def complete_all(ids: list[int], users: dict, *, count_sql=False, sizes=False) -> Run:
    """Complete every task of the instances, one task per instance per round (one query per
    round finds the open tasks, outside the timing)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from workflows.models import HumanTask, HumanTaskState
    from workflows.services.tasks import task_complete

    run, pending, began = Run(), list(ids), time.perf_counter()
    run.sizes += state_sizes(ids) if sizes else []
    while True:
        tasks = HumanTask.objects.filter(instance_id__in=pending, state=HumanTaskState.OPEN)
        rows = list(tasks.values_list("instance_id", "pk", "candidate_roles"))
        if not rows:
            break
        pending = [row[0] for row in rows]
        loop = time.perf_counter()
        for _, task_pk, roles in rows:
            user = users[roles[0]]
            if count_sql:
                with CaptureQueriesContext(connection) as captured:
                    task_complete(task_id=task_pk, user=user, data=TASK_DATA)
                sql = [q["sql"].lstrip().upper() for q in captured.captured_queries]
                control = sum(1 for q in sql if q.startswith(TX_CONTROL))
                run.statements.append((len(sql) - control, control))
                continue
            t0 = time.perf_counter()
            task_complete(task_id=task_pk, user=user, data=TASK_DATA)
            run.latencies.append(time.perf_counter() - t0)
        run.busy += time.perf_counter() - loop
        run.sizes += state_sizes(ids) if sizes else []
    run.elapsed = time.perf_counter() - began
    return run


# --- Bare baseline: the same work in memory -----------------------------------------------------


def bare_runtime(count: int) -> list[float]:
    """The project's engine layer: DefinitionRuntime load + complete_user_task + dump."""
    from workflows.engine.parser import load_xml, parse_diagram
    from workflows.engine.runtime import DefinitionRuntime, IdSequence

    parsed = parse_diagram(load_xml(DIAGRAM.read_bytes(), max_bytes=5 * 1024 * 1024))
    runtime = DefinitionRuntime(parsed, handler_runner=lambda topic, data: None, time_limit=1.0)
    complete, now = runtime.complete_user_task, datetime.now(UTC)

    live = []
    for _ in range(count):
        ids = IdSequence(uuid.uuid4())
        workflow, result = runtime.start(variables=START_VARS, ids=ids, now=now)
        live.append((runtime.dump(workflow), ids, result.created[0].task_id))
    latencies = []
    while live:  # one completion per instance per round, like the service run
        waiting = []
        for state, ids, task_id in live:
            t0 = time.perf_counter()
            workflow = runtime.load(state)
            result = complete(workflow, task_id=task_id, data=TASK_DATA, ids=ids, now=now)
            state = runtime.dump(workflow)
            latencies.append(time.perf_counter() - t0)
            if result.created:
                waiting.append((state, ids, result.created[0].task_id))
        live = waiting
    return latencies


def bare_spiff(count: int) -> list[float]:
    """Stock SpiffWorkflow: CamundaParser, BpmnWorkflowSerializer with its Camunda config."""
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.camunda.parser import CamundaParser
    from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
    from SpiffWorkflow.util.task import TaskState

    parser = CamundaParser()
    parser.add_bpmn_file(str(DIAGRAM))
    spec, subprocesses = parser.get_spec(KEY), parser.get_subprocess_specs(KEY)
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG))

    live = []
    for _ in range(count):
        workflow = BpmnWorkflow(spec, subprocesses)
        for task in workflow.get_tasks():
            task.data.update(START_VARS)
        workflow.do_engine_steps()
        live.append(serializer.serialize_json(workflow))
    latencies = []
    while live:
        waiting = []
        for state in live:
            t0 = time.perf_counter()
            workflow = serializer.deserialize_json(state)
            task = workflow.get_next_task(state=TaskState.READY, manual=True)
            task.data.update(TASK_DATA)
            task.run()
            workflow.do_engine_steps()
            state = serializer.serialize_json(workflow)
            latencies.append(time.perf_counter() - t0)
            if not workflow.completed:
                waiting.append(state)
        live = waiting
    return latencies


# --- Big history -------------------------------------------------------------------------------


def _db_values(obj, connection, *, without=("id",)) -> dict:
    """The object's column values as the database takes them (JSON adapted, datetimes...)."""
    fields = [f for f in type(obj)._meta.concrete_fields if f.attname not in without]
    return {f.column: f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields}


def _insert(cursor, connection, table: str, rows: list[dict]) -> None:
    """One executemany of prepared values: no model instances, no per-value preparation."""
    columns = list(rows[0])
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    sql = f"INSERT INTO {connection.ops.quote_name(table)} ({names}) VALUES "
    sql += "(" + ", ".join(["%s"] * len(columns)) + ")"
    if connection.vendor == "postgresql":  # server-side binding: no quoting in Python
        import psycopg

        cursor = psycopg.Cursor(connection.connection)
    cursor.executemany(sql, [[row[c] for c in columns] for row in rows])


def add_finished(count: int, template_pk: int) -> int:
    """Insert ``count`` copies of a finished instance. Primary keys are chosen here, so each
    copy's audit chain and candidate rows are built before inserting. Returns rows written."""
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.db.models import Max

    from workflows.models import AuditEvent, HumanTask, ProcessInstance, TaskCandidate
    from workflows.services.audit import event_hash, instance_stream

    template = ProcessInstance.objects.get(pk=template_pk)
    instance_row = _db_values(template, connection, without=())
    tasks = list(HumanTask.objects.filter(instance=template).order_by("pk"))
    task_rows = [_db_values(t, connection, without=()) for t in tasks]
    candidate_rows = [[_db_values(c, connection) for c in t.candidates.all()] for t in tasks]
    events = list(AuditEvent.objects.filter(instance=template).order_by("sequence"))
    event_rows = [_db_values(e, connection) for e in events]
    new_uuid = ProcessInstance._meta.get_field("uuid").get_db_prep_save
    pk = ProcessInstance.objects.aggregate(m=Max("pk"))["m"] + 1
    task_pk = HumanTask.objects.aggregate(m=Max("pk"))["m"] + 1
    written = 0
    for first in range(0, count, INSERT_CHUNK):
        rows = {ProcessInstance: [], HumanTask: [], TaskCandidate: [], AuditEvent: []}
        for i in range(first, min(count, first + INSERT_CHUNK)):
            stream, head = instance_stream(pk), ""
            for event, row in zip(events, event_rows, strict=True):
                fields = {k: getattr(event, k) for k in HASHED}
                digest = event_hash(stream=stream, previous_hash=head, **fields)
                changes = {"stream": stream, "instance_id": pk, "previous_hash": head}
                rows[AuditEvent].append({**row, **changes, "hash": digest})
                head = digest
            changes = {"id": pk, "business_key": f"h-{i}", "audit_head": head}
            uuid_value = new_uuid(uuid.uuid4(), connection)
            rows[ProcessInstance].append({**instance_row, **changes, "uuid": uuid_value})
            for task_row, candidates in zip(task_rows, candidate_rows, strict=True):
                rows[HumanTask].append({**task_row, "id": task_pk, "instance_id": pk})
                rows[TaskCandidate] += [{**c, "task_id": task_pk} for c in candidates]
                task_pk += 1
            pk += 1
        with transaction.atomic(), connection.cursor() as cursor:
            for model, model_rows in rows.items():
                _insert(cursor, connection, model._meta.db_table, model_rows)
                written += len(model_rows)
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [ProcessInstance, HumanTask]):
            cursor.execute(sql)
    return written


def settle(backend: str) -> None:
    """Before measuring after a bulk insert: statistics, dirty pages on disk (what autovacuum
    and checkpoints do in time), so the probe measures the big table, not the insert's wake."""
    from django.db import connection

    if backend == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
            cursor.execute("CHECKPOINT")
    os.sync()


def history(backend: str, users: dict, probe: int, finished: int, template_pk: int) -> dict:
    """p50 completion of ``probe`` fresh instances with 1,000 and ``finished`` finished ones."""
    from workflows.models import InstanceState, ProcessInstance

    out = {}
    for label, target in (("small", min(SMALL_HISTORY, finished)), ("big", finished)):
        have = ProcessInstance.objects.filter(state=InstanceState.COMPLETED).count()
        if target > have:
            began = time.perf_counter()
            rows = add_finished(target - have, template_pk)
            out[f"{label}_insert_s"] = seconds = time.perf_counter() - began
            log(f"inserted {target - have:,} finished instances ({rows:,} rows) in {seconds:.1f}s")
            have = target
        settle(backend)
        ids, _ = start_instances(probe, users, f"probe-{label}")
        out[f"{label}_n"], out[f"{label}_p50"] = have, p50_ms(complete_all(ids, users).latencies)
        log(f"history {have:,} finished: p50 {out[f'{label}_p50']:.2f} ms")
    out["ratio"] = out["big_p50"] / out["small_p50"]
    return out


# --- Two clients (PostgreSQL) ------------------------------------------------------------------


def _client(ids: list[int], users: dict, barrier, results) -> None:
    from django.db import connection

    connection.close()  # the parent's connection is closed; open this client's own
    connection.ensure_connection()
    barrier.wait()
    began = time.perf_counter()
    run = complete_all(ids, users)
    results.put((len(run.latencies), began, time.perf_counter(), p50_ms(run.latencies)))
    connection.close()


def two_clients(count: int, users: dict) -> dict:
    import multiprocessing

    from django.db import connections

    one_ids, _ = start_instances(count, users, "one-client")
    two_ids, _ = start_instances(count, users, "two-clients")
    one = complete_all(one_ids, users)
    connections.close_all()  # before forking: each client opens its own connection
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(2), context.Queue()
    args = [(two_ids[i::2], users, barrier, results) for i in (0, 1)]
    clients = [context.Process(target=_client, args=a) for a in args]
    for client in clients:
        client.start()
    done = [results.get() for _ in clients]
    for client in clients:
        client.join()
    one_rate = len(one.latencies) / one.elapsed
    two_rate = sum(d[0] for d in done) / (max(d[2] for d in done) - min(d[1] for d in done))
    two_p50 = max(d[3] for d in done)
    return {
        "one_rate": one_rate,
        "two_rate": two_rate,
        "two_p50": two_p50,
        "speedup": two_rate / one_rate,
    }


# --- One backend (child process) -----------------------------------------------------------------


def measure(backend: str, instances: int, finished: int) -> dict:
    from django.db import connection

    load, users = os.getloadavg()[0], make_users_and_deploy()
    log(f"{backend}: starting {instances} instances, then completing their {instances * 6} tasks")
    ids, start_seconds = start_instances(instances, users, "main")
    main = complete_all(ids, users, sizes=True)
    sample_ids, _ = start_instances(max(5, min(50, instances // 10)), users, "sql")
    sql = complete_all(sample_ids, users, count_sql=True)
    log(f"{backend}: bare baselines")
    bare = bare_spiff(instances)
    layer = bare_runtime(instances)
    r = {
        "version": connection.pg_version if backend == "postgresql" else 0,
        "load": load,
        "starts_per_s": instances / start_seconds,
        "completions_per_s": len(main.latencies) / main.busy,
        "p50": p50_ms(main.latencies),
        "p95": percentile(main.latencies, 0.95) * 1000,
        "data_mean": fmean([d for d, _ in sql.statements]),
        "data_max": max(d for d, _ in sql.statements),
        "control_mean": fmean([c for _, c in sql.statements]),
        "state_mean": fmean(main.sizes),
        "state_max": max(main.sizes),
        "bare_p50": p50_ms(bare),
        "layer_p50": p50_ms(layer),
    }
    r["ratio"] = r["p50"] / r["bare_p50"]
    probe, clients = max(10, instances // 5), max(10, instances // 2)
    log(f"{backend}: history check, {probe} probe instances each time")
    hist = history(backend, users, probe, finished, template_pk=ids[0])
    r.update({f"history_{k}": v for k, v in hist.items()})
    if backend == "postgresql":
        log(f"{backend}: one client, then two clients ({clients} instances each)")
        r.update({f"clients_{k}": v for k, v in two_clients(clients, users).items()})
    return r


def child(args) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # on a kill, still drop the database
    with tempfile.TemporaryDirectory(prefix="fuzhu-bench-") as workdir:
        try:
            use_database(args.backend, Path(workdir))
            result = measure(args.backend, args.instances, args.finished)
        finally:
            from django.db import connections

            connections.close_all()
            if args.backend == "postgresql":
                pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
    print(json.dumps(result))


# --- Parent: run both backends, print the table ------------------------------------------------

PG_ONLY = "on PostgreSQL"
ROWS = [  # label (formatted with the result), key, format, target, met?
    ("machine load (1-min average) at the start", "load", ".2f", "", None),
    ("starts/s", "starts_per_s", ".0f", "", None),
    ("completions/s (one client)", "completions_per_s", ".0f", "", None),
    ("completion p50 (ms)", "p50", ".2f", f"<= 8 {PG_ONLY}", lambda v: v <= 8),
    ("completion p95 (ms)", "p95", ".2f", "", None),
    ("SQL data statements / completion, mean", "data_mean", ".2f", "<= 12", lambda v: v <= 12),
    ("SQL data statements / completion, max", "data_max", "d", "<= 12", lambda v: v <= 12),
    ("BEGIN/COMMIT/SAVEPOINT/RELEASE / completion", "control_mean", ".2f", "", None),
    ("serialized_state bytes, mean", "state_mean", ".0f", "", None),
    ("serialized_state bytes, max", "state_max", "d", "", None),
    ("bare SpiffWorkflow, in memory: p50 (ms)", "bare_p50", ".3f", "", None),
    ("our engine layer alone, in memory: p50 (ms)", "layer_p50", ".3f", "", None),
    ("ratio ours / bare, p50", "ratio", ".1f", "<= 3", lambda v: v <= 3),
    ("p50 (ms), {history_small_n:,} finished in DB", "history_small_p50", ".2f", "", None),
    ("p50 (ms), {history_big_n:,} finished in DB", "history_big_p50", ".2f", "", None),
    ("big-history ratio", "history_ratio", ".2f", "< 1.5", lambda v: v < 1.5),
    ("insert of the big history (s)", "history_big_insert_s", ".0f", "", None),
    ("one client: completions/s", "clients_one_rate", ".0f", "", None),
    ("two clients: completions/s", "clients_two_rate", ".0f", "", None),
    ("two clients: p50 (ms), slower client", "clients_two_p50", ".2f", "", None),
    ("two clients: speed-up vs one", "clients_speedup", ".2f", ">= 1.8", lambda v: v >= 1.8),
]


def print_table(results: dict, args, seconds: float) -> None:
    import django
    import SpiffWorkflow

    names = list(results)
    pg = results.get("postgresql", {}).get("version", 0)
    print(
        f"Fuzhu engine benchmark: {DIAGRAM.name} (6 user tasks), {args.instances:,} instances, "
        f"{args.finished:,} finished for the history check{' (--quick)' * args.quick}\n"
        f"Python {platform.python_version()}, Django {django.get_version()}, SpiffWorkflow "
        f"{SpiffWorkflow.__version__}, PostgreSQL {pg // 10000}.{pg % 100}, {os.cpu_count()} CPUs"
        " (shared by clients and server)\n"
        "Bare baseline (the ratio): stock SpiffWorkflow in memory, no Django, no database;\n"
        "  CamundaParser once, per completion deserialize_json + run + do_engine_steps +\n"
        "  serialize_json (stock BpmnWorkflowSerializer, CAMUNDA_CONFIG, spec inside the state).\n"
        "Engine layer alone (information): workflows.engine.runtime.DefinitionRuntime in memory,\n"
        "  load + complete_user_task + dump (the state leaves the spec out).\n"
    )
    header = f"{'metric':<46}" + "".join(f"{b:>12}" for b in names) + "  target"
    print(header + "\n" + "-" * (len(header) + 30))
    for label, key, fmt, target, met in ROWS:
        cells, marks = "", []
        for b in names:
            value = results[b].get(key)
            cells += f"{'n/a' if value is None else format(value, fmt):>12}"
            if met and value is not None and (b == "postgresql" or PG_ONLY not in target):
                marks.append(f"{b} {'met' if met(value) else 'MISSED'}")
        label = label.format(**results[names[-1]])
        print(f"{label:<46}{cells}  {target}" + (f" ({', '.join(marks)})" if marks else ""))
    print(f"\nTotal run time: {seconds:.0f} s")


def parent(args) -> None:
    began, results = time.perf_counter(), {}
    for backend in ("sqlite", "postgresql"):
        command = [sys.executable, __file__, "--backend", backend]
        command += ["--instances", str(args.instances), "--finished", str(args.finished)]
        log(f"running the {backend} child")
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
        if done.returncode == 0:
            results[backend] = json.loads(done.stdout.strip().splitlines()[-1])
        else:
            log(f"the {backend} child failed (exit {done.returncode}); see above")
    if results:
        print_table(results, args, time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, help="instances to start (1000; --quick 30)")
    parser.add_argument("--finished", type=int, help="big-history size (100000; --quick 2000)")
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.instances = args.instances or (30 if args.quick else 1000)
    args.finished = args.finished or (2000 if args.quick else 100_000)
    child(args) if args.backend else parent(args)


if __name__ == "__main__":
    main()
