"""Portal benchmark: server time and SQL per page with a county's worth of open work. Prints.

    .venv/bin/python bench/portal.py [--instances 50000] [--tasks 200000] [--requests 60]

Builds its own PostgreSQL database (``fuzhu_bench_portal`` on 127.0.0.1:5432; dropped and
created anew), migrates it, deploys the demo procedure (processes/bpmn/certificate_renewal.bpmn)
and starts one real case per township through ``instance_start``. Those cases' rows are then
copied with bulk inserts into --instances instances spread over 20 townships, each holding
--tasks / --instances open tasks (with their candidate rows: role ``township_staff`` or
``county_staff``), due dates from two weeks overdue to two weeks ahead, and two audit events.

Each page is requested --requests times with Django's test Client (force_login), in process:
the time is the server's whole handling of the request (middleware, view, queries, template),
without a network. SQL per page is counted on a separate request. Pages:

* inbox, township officer (≈1/20 of the tasks reach them), group tab and "my tasks" tab;
* inbox, county clerk (every county_staff task in the county), group tab, and with filters
  (procedure + task + overdue) and with a search by applicant name;
* task page of an open task; case page of a case (diagram marks from the engine state,
  timeline, data, documents).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
PG_DB = "fuzhu_bench_portal"
COUNTY = "330102000000"
TOWNSHIPS = [f"330102{100 + n:03d}000" for n in range(1, 21)]
KEY = "certificate_renewal"
CHUNK = 2000
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "秀英建国桂兰志强玉梅德明丽华伟芳敏静磊军洋勇艳杰娟涛明超秀兰霞平刚"


def log(message: str) -> None:
    print(
        f"[{time.strftime('%H:%M:%S', time.gmtime())} UTC] {message}", file=sys.stderr, flush=True
    )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def setup_database(workdir: Path) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_DB}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["FUZHU_VAR_DIR"] = str(workdir)
    os.environ["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{PG_DB}"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, skip_checks=True)


def make_units_and_users() -> dict:
    from django.apps import apps
    from django.contrib.auth import get_user_model

    from workflows.services.roles import role_grant

    if apps.is_installed("registry"):  # its scope resolver knows only the units it holds
        from registry.models import OrgUnitKind
        from registry.services.org_units import org_unit_create

        org_unit_create(code=COUNTY, name="清溪县", kind=OrgUnitKind.COUNTY, parent_code="")
        for n, code in enumerate(TOWNSHIPS, 1):
            org_unit_create(code=code, name=f"第{n}镇", kind=OrgUnitKind.TOWN, parent_code="")

    def user(name: str, role: str, org_unit: str):
        person = get_user_model().objects.create_user(name, last_name=name)
        role_grant(user=person, role=role, org_unit=org_unit)
        return person

    users = {
        "owner": user("owner", "process_owner", ""),
        "county": user("county", "county_staff", COUNTY),
    }
    for n, code in enumerate(TOWNSHIPS):
        users[f"township_{n}"] = user(f"township_{n}", "township_staff", code)
    return users


def seed_cases(users: dict) -> dict:
    """One real case per township (via the services); one taken on to the county review."""
    from registry.identity import citizen_id_make
    from workflows.services.definitions import definition_deploy
    from workflows.services.instances import instance_start
    from workflows.services.tasks import task_complete

    content = (ROOT / "processes" / "bpmn" / f"{KEY}.bpmn").read_bytes()
    definition_deploy(content=content, user=users["owner"])
    seeds = {}
    for n, code in enumerate(TOWNSHIPS):
        seeds[code] = instance_start(
            process_key=KEY,
            user=users[f"township_{n}"],
            business_key=f"SEED-{n}",
            org_unit=code,
            variables={
                "applicant_name": "王秀英",
                "applicant_id": citizen_id_make(
                    area_code="330102", birth_date=date(1950, 3, 15), sequence=n + 1
                ),
                "certificate_no": citizen_id_make(
                    area_code="330102", birth_date=date(1950, 3, 15), sequence=n + 1
                )
                + "41",
                "renewal_reason": "expired",
            },
        )
    first = seeds[TOWNSHIPS[0]]
    task_complete(
        task_id=first.human_tasks.get().pk,
        user=users["township_0"],
        data={
            "household_verified": True,
            "contact_phone": "13805710001",
            "household_size": 3,
            "township_decision": "approve",
            "township_opinion": "同意。",
        },
    )
    first.refresh_from_db()
    return {"township": seeds, "county_case": first}


def bulk_fill(seeds: dict, *, instances: int, tasks: int) -> None:
    """Copies of the seed cases: ``instances`` rows, ``tasks`` open tasks, candidates, events."""
    from django.db import transaction
    from django.utils import timezone

    from workflows.models import AuditEvent, HumanTask, ProcessInstance, TaskCandidate

    rng = random.Random(2025)
    now = timezone.now()
    per_instance = max(1, tasks // instances)
    template = seeds["township"][TOWNSHIPS[0]]
    county_case = seeds["county_case"]
    made_instances = made_tasks = 0
    started = time.perf_counter()
    while made_instances < instances:
        batch = min(CHUNK, instances - made_instances)
        with transaction.atomic():
            rows = []
            for i in range(batch):
                n = made_instances + i
                township = TOWNSHIPS[n % len(TOWNSHIPS)]
                at_county = n % 4 == 0
                source = county_case if at_county else template
                name = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2))
                rows.append(
                    ProcessInstance(
                        definition_id=template.definition_id,
                        business_key=f"HZ-{n:06d}",
                        scope=township,
                        started_by_id=template.started_by_id,
                        state=source.state,
                        serialized_state=source.serialized_state,
                        variables={
                            **source.variables,
                            "applicant_name": name,
                            "applicant_id": f"330102{1940 + n % 60}{n % 12 + 1:02d}{n % 28 + 1:02d}"
                            f"{n % 1000:03d}{n % 10}",
                        },
                        task_id_counter=source.task_id_counter,
                        audit_sequence=2,  # the two copied events below
                        audit_head=f"{n:064x}",
                        created_at=now - timedelta(days=rng.randint(0, 30)),
                        updated_at=now,
                    )
                )
            created = ProcessInstance.objects.bulk_create(rows, batch_size=CHUNK)
            task_rows, events = [], []
            for instance in created:
                at_county = instance.business_key and int(instance.business_key[3:]) % 4 == 0
                for k in range(per_instance):
                    if made_tasks >= tasks:
                        break
                    made_tasks += 1
                    county_task = at_county and k == 0
                    task_rows.append(
                        HumanTask(
                            instance=instance,
                            task_id=uuid.uuid4(),
                            element_id="county_review" if county_task else "township_check",
                            name="县级复核" if county_task else "乡镇初审",
                            process_key=KEY,
                            lane="县残联工作人员" if county_task else "乡镇残联工作人员",
                            candidate_roles=["county_staff" if county_task else "township_staff"],
                            scope=instance.scope,
                            scope_path=f"330102.{instance.scope[6:9]}.",
                            due_at=now + timedelta(hours=rng.randint(-14 * 24, 14 * 24)),
                            form_key=(
                                "certificate_county_review"
                                if county_task
                                else "certificate_township_check"
                            ),
                            created_at=instance.created_at,
                        )
                    )
                for seq, kind in ((1, "instance_started"), (2, "task_claimed")):
                    events.append(
                        AuditEvent(
                            stream=f"instance:{instance.pk}",
                            sequence=seq,
                            instance=instance,
                            created_at=instance.created_at,
                            actor="township_0",
                            kind=kind,
                            payload={"variables": instance.variables} if seq == 1 else {},
                            hash=instance.audit_head if seq == 2 else uuid.uuid4().hex * 2,
                        )
                    )
            saved = HumanTask.objects.bulk_create(task_rows, batch_size=CHUNK)
            TaskCandidate.objects.bulk_create(
                [TaskCandidate(task=t, role=t.candidate_roles[0]) for t in saved],
                batch_size=CHUNK,
            )
            AuditEvent.objects.bulk_create(events, batch_size=CHUNK)
        made_instances += batch
        if made_instances % 10000 == 0 or made_instances == instances:
            log(f"{made_instances:,} instances, {made_tasks:,} open tasks")
    from django.db import connection

    with connection.cursor() as cursor:  # a settled database, as after a night's autovacuum
        cursor.execute("VACUUM ANALYZE")
    log(f"filled in {time.perf_counter() - started:.0f} s")


def measure(client, url: str, requests: int) -> tuple[float, float, int, int]:
    """(p50 ms, p95 ms, SQL queries, status) of ``requests`` GETs of ``url``."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm caches (templates, parsed diagrams)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    return (
        percentile(times, 0.5) * 1000,
        percentile(times, 0.95) * 1000,
        len(captured),
        response.status_code,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=50_000)
    parser.add_argument("--tasks", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="fuzhu-bench-portal-"))
    log(f"database {PG_DB}; files in {workdir}")
    setup_database(workdir)
    from django.contrib.auth import get_user_model
    from django.test import Client

    from workflows.models import HumanTask, HumanTaskState, ProcessInstance
    from workflows.services.tasks import task_claim

    users = make_units_and_users()
    seeds = seed_cases(users)
    bulk_fill(seeds, instances=args.instances, tasks=args.tasks)
    township_user = users["township_0"]
    mine = HumanTask.objects.filter(
        state=HumanTaskState.OPEN, scope=TOWNSHIPS[0], element_id="township_check"
    ).order_by("pk")[:40]
    for task in mine:
        task_claim(task_id=task.pk, user=township_user)
    open_task = mine[0]
    case = ProcessInstance.objects.filter(scope=TOWNSHIPS[0]).order_by("-pk").first()

    def client(user) -> Client:
        c = Client(HTTP_HOST="127.0.0.1")
        c.force_login(get_user_model().objects.get(pk=user.pk))
        return c

    township, county = client(township_user), client(users["county"])
    reach = HumanTask.objects.filter(state=HumanTaskState.OPEN, scope=TOWNSHIPS[0]).count()
    pages = [
        ("inbox, township officer, group tab", township, "/?tab=group"),
        ("inbox, township officer, my tasks", township, "/?tab=mine"),
        ("inbox, county clerk, group tab", county, "/?tab=group"),
        (
            "inbox, county clerk, filtered (procedure, task, overdue)",
            county,
            f"/?tab=group&procedure={KEY}&task=county_review&due=overdue",
        ),
        ("inbox, county clerk, search by name", county, "/?tab=group&q=王秀"),
        ("task page", township, f"/tasks/{open_task.pk}/"),
        ("case page", township, f"/cases/{case.pk}/"),
    ]
    total_tasks = HumanTask.objects.filter(state=HumanTaskState.OPEN).count()
    print()
    print(
        f"Portal benchmark — PostgreSQL, {ProcessInstance.objects.count():,} instances, "
        f"{total_tasks:,} open tasks ({reach:,} in the township officer's township), "
        f"{args.requests} requests per page, Django test Client in process"
    )
    print(f"{'page':<58} {'p50 ms':>8} {'p95 ms':>8} {'SQL':>5} {'status':>7}")
    for label, c, url in pages:
        p50, p95, queries, status = measure(c, url, args.requests)
        print(f"{label:<58} {p50:>8.1f} {p95:>8.1f} {queries:>5} {status:>7}")
    print("target: p95 < 150 ms; SQL per page constant (it does not depend on the number of tasks)")


if __name__ == "__main__":
    main()
