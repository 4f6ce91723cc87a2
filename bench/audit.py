"""Audit benchmark: the replay view of a long case, and verifying a large audit log.

    .venv/bin/python bench/audit.py [--rounds 250] [--events 1000000] [--no-browser]
                                    [--postgres] [--lengths-only] [--repeats 5]

On a throwaway database (a temp SQLite file; with --postgres ``fuzhu_bench_<pid>`` on
127.0.0.1:5432, created and dropped), prints, asserting nothing:

* first-visit replay by case length: the replay page (GET, test client, nothing kept yet) of
  the long case below with 25, 250 and 2,500 rounds (about 200, 2,000 and 20,000 events), and
  the ratio of the 20,000 figure to the 2,000 one (re-execution is linear: about 10); each the
  median of --repeats first visits (the kept replay dropped before each), all printed, with
  the process's CPU time (which other work on the machine does not spread). These
  cases' chains are written as the services write them without driving each step through
  them (see ``write_case``).
* the long case: bench/fixtures/correction_loop.bpmn returned for correction --rounds times
  (each round: the county check claimed, handed back, claimed again and completed; the
  correction the same), driven through the services: about 8 x rounds audit events on the
  case's chain (250 rounds: 2,000 events).
* replay, server side: building the history (re-executing the case on its version, event by
  event), the replay document, the verification (hash chain + reproduction), the JSON size, and
  the whole replay page rendered by Django (GET, test client): the first visit (re-execution)
  and the p50 of 5 later ones (the replay is kept until anything it is built from changes).
* replay, in Chromium (Debian's /usr/bin/chromium, a real ``runserver``): time from navigation
  to the first step painted (diagram drawn, panel filled), and per step: p50/p95 of 300 steps
  taken with the → key and of 100 random jumps (the page's own timing of one step).
* verification: --events hash-chained events (1,000 chains) bulk-inserted, then the full
  check of every chain (``audit_verify``): events/s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.engine import PG_DB, log, percentile, pg_admin, use_database  # noqa: E402

DIAGRAM = ROOT / "bench" / "fixtures" / "correction_loop.bpmn"
KEY = "correction_loop"
COUNTY, TOWNSHIP = "330102000000", "330102101000"
CHAINS = 1000
# Correction rounds of the cases the first-visit replay is measured on: 8 events a round, so
# about 200, 2,000 and 20,000 events.
LENGTHS = (25, 250, 2500)
CHROMIUM = "/usr/bin/chromium"


def make_people():
    """The org units, the county and township desks, an auditor; the diagram deployed."""
    from django.apps import apps
    from django.contrib.auth import get_user_model

    if apps.is_installed("registry"):
        from registry.models import OrgUnitKind
        from registry.services.org_units import org_unit_create

        org_unit_create(code=COUNTY, name="清溪县", kind=OrgUnitKind.COUNTY, parent_code="")
        org_unit_create(code=TOWNSHIP, name="城关镇", kind=OrgUnitKind.TOWN, parent_code="")
    from workflows.services.definitions import definition_deploy
    from workflows.services.roles import role_grant

    def user(name: str, role: str, org_unit: str):
        person = get_user_model().objects.create_user(name, password="bench-password")
        role_grant(user=person, role=role, org_unit=org_unit)
        return person

    owner = user("owner", "process_owner", "")
    definition_deploy(content=DIAGRAM.read_bytes(), user=owner)
    return {
        "county": user("county", "county_staff", COUNTY),
        "township": user("township", "township_staff", TOWNSHIP),
        "auditor": user("auditor", "auditor", ""),
    }


def opinion(round_number: int, last: bool) -> dict:
    return {
        "approved": last,
        "opinion": f"第{round_number + 1}次审核：{'通过' if last else '缺材料'}",
    }


def make_case(rounds: int, people: dict):
    """The long case driven through the services, as the portal drives it."""
    from workflows.models import HumanTask
    from workflows.services.instances import instance_start
    from workflows.services.tasks import task_claim, task_complete, task_unclaim

    county, township = people["county"], people["township"]
    instance = instance_start(
        process_key=KEY, user=township, org_unit=TOWNSHIP, variables={"applicant_name": "张三"}
    )

    def handed_over(task, user) -> None:
        """Claimed, handed back (a colleague is away), claimed again: as desks really work."""
        task_claim(task_id=task.pk, user=user)
        task_unclaim(task_id=task.pk, user=user)
        task_claim(task_id=task.pk, user=user)

    began = time.perf_counter()
    for round_number in range(rounds + 1):
        last = round_number == rounds
        check = HumanTask.objects.filter(
            instance=instance, element_id="county_check", state="open"
        ).first()
        if check is None:
            instance.refresh_from_db()
            raise SystemExit(
                f"round {round_number}: no open check; the case is {instance.state}: "
                f"{instance.incident_message}"
            )
        handed_over(check, county)
        task_complete(task_id=check.pk, user=county, data=opinion(round_number, last))
        if last:
            break
        correct = HumanTask.objects.get(
            instance=instance, element_id="township_correct", state="open"
        )
        handed_over(correct, township)
        task_complete(
            task_id=correct.pk, user=township, data={"supplied": f"补充材料{round_number + 1}"}
        )
    log(f"long case driven in {time.perf_counter() - began:.1f} s")
    instance.refresh_from_db()
    return instance


def write_case(rounds: int, people: dict):
    """The same long case, its chain written as the services write it, without their cost.

    Driving 2,500 rounds through the services takes the better part of an hour (every task
    completion loads and saves the whole state, which grows with the case). So the engine is
    driven in memory and each round's events are appended as the services append them - claimed,
    handed back, claimed again, completed with its data and the state record - then the state
    is saved once. The digests come from the replay's own step-by-step computation, which the
    tests check against the full one at every event; the bench checks the final digest against
    the full computation and prints whether the replay reproduces the stored state."""
    from datetime import timedelta

    from django.utils import timezone

    from workflows.engine.runtime import IdSequence, StateTracker, state_digest, workflow_data
    from workflows.models import AuditKind
    from workflows.services.audit import InstanceAuditLog
    from workflows.services.instances import instance_start
    from workflows.services.runtimes import runtime_for

    county, township = people["county"], people["township"]
    instance = instance_start(
        process_key=KEY, user=township, org_unit=TOWNSHIP, variables={"applicant_name": "张三"}
    )
    runtime = runtime_for(instance.definition)
    workflow = runtime.load(instance.serialized_state)
    ids = IdSequence(instance.uuid, instance.task_id_counter)
    tracker = StateTracker(workflow, ids.namespace, ids.counter)
    audit = InstanceAuditLog(instance)
    moment = timezone.now()
    began = time.perf_counter()

    def work(element: str, user, data: dict) -> None:
        nonlocal moment
        (task,) = [t for t in runtime_ready(workflow) if t.element_id == element]
        for kind in (AuditKind.TASK_CLAIMED, AuditKind.TASK_UNCLAIMED, AuditKind.TASK_CLAIMED):
            moment += timedelta(minutes=1)
            audit.append(
                actor=user, kind=kind, task_id=str(task.task_id), element_id=element, at=moment
            )
        moment += timedelta(minutes=1)
        runtime.complete_user_task(workflow, task_id=task.task_id, data=data, ids=ids, now=moment)
        tracker.update(workflow, ids.counter)
        audit.append(
            actor=user,
            kind=AuditKind.TASK_COMPLETED,
            task_id=str(task.task_id),
            element_id=element,
            at=moment,
            payload={"data": data, **tracker.record(workflow)},
        )
        if len(audit.pending) >= 2000:
            audit.flush()

    for round_number in range(rounds + 1):
        last = round_number == rounds
        work("county_check", county, opinion(round_number, last))
        if not last:
            work("township_correct", township, {"supplied": f"补充材料{round_number + 1}"})
    assert workflow.completed and tracker.digest() == state_digest(workflow)
    instance.serialized_state = runtime.dump(workflow)
    instance.variables = workflow_data(workflow)
    instance.task_id_counter = ids.counter
    instance.updated_at = moment
    instance.mark_completed()
    audit.append(
        actor=county,
        kind=AuditKind.INSTANCE_COMPLETED,
        at=moment,
        payload={"variables": instance.variables},
    )
    instance.save()
    audit.flush()
    seconds = time.perf_counter() - began
    log(f"case of {instance.audit_sequence:,} events written in {seconds:.1f} s")
    return instance


def runtime_ready(workflow):
    from workflows.engine.runtime import ready_user_tasks

    return ready_user_tasks(workflow)


def first_visit(instance, auditor, repeats: int = 1) -> dict:
    """The replay page opened for the first time (nothing kept yet): re-execution, document,
    chain check and rendering, as the auditor waits for them. Measured ``repeats`` times, the
    kept replay dropped before each; the median is given (other work on the machine spreads
    single figures)."""
    from django.core.cache import cache
    from django.test import Client

    from workflows.selectors.case_replay import case_history, case_verify

    client = Client()
    client.force_login(auditor)
    pages, cpu, histories = [], [], []
    for _ in range(repeats):
        cache.clear()
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(f"/audit/cases/{instance.pk}/")
        pages.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        assert response.status_code == 200, response.status_code
        start = time.perf_counter()
        history = case_history(instance=instance)
        histories.append(time.perf_counter() - start)
    return {
        "events": instance.audit_sequence,
        "page": percentile(pages, 0.5),
        "pages": pages,
        "cpu": percentile(cpu, 0.5),
        "history": percentile(histories, 0.5),
        "reproduces": case_verify(history).reproduces,
    }


def length_figures(people: dict, repeats: int) -> dict:
    first_visit(write_case(2, people), people["auditor"])  # warm up: templates, the parse
    rows = [
        first_visit(write_case(rounds, people), people["auditor"], repeats) for rounds in LENGTHS
    ]
    figures = {}
    for row in rows:
        each = " / ".join(f"{p * 1000:,.0f}" for p in row["pages"])
        figures[f"{row['events']:,} events: page GET, first visit ms (median)"] = row["page"] * 1000
        figures[f"{row['events']:,} events: each first visit ms"] = each
        figures[f"{row['events']:,} events: first visit, CPU time ms (median)"] = row["cpu"] * 1000
        figures[f"{row['events']:,} events: of which re-execution ms"] = row["history"] * 1000
        figures[f"{row['events']:,} events: reproduces"] = row["reproduces"]
    by_events = {round(r["events"], -2): r for r in rows}
    if 2000 in by_events and 20000 in by_events:
        long, short = by_events[20000], by_events[2000]
        figures["20,000 / 2,000 events (first visit, medians)"] = long["page"] / short["page"]
        # This process's own CPU time: what other work on the machine does not spread.
        figures["20,000 / 2,000 events (CPU time, medians)"] = long["cpu"] / short["cpu"]
    return figures


def server_figures(instance, auditor) -> dict:
    from django.test import Client

    from portal.replay import replay_document
    from workflows.selectors.case_replay import case_history, case_verify

    began = time.perf_counter()
    history = case_history(instance=instance)
    built = time.perf_counter()
    document = replay_document(history)
    documented = time.perf_counter()
    verification = case_verify(history)
    verified = time.perf_counter()
    client = Client()
    client.force_login(auditor)
    pages = []
    for _ in range(6):
        start = time.perf_counter()
        response = client.get(f"/audit/cases/{instance.pk}/")
        pages.append(time.perf_counter() - start)
        assert response.status_code == 200, response.status_code
    cold, pages = pages[0], pages[1:]
    return {
        "events": instance.audit_sequence,
        "steps": len(document["steps"]),
        "state tables": len(document["states"]),
        "history (re-execution) ms": (built - began) * 1000,
        "replay document ms": (documented - built) * 1000,
        "verification ms": (verified - documented) * 1000,
        "intact": verification.intact,
        "reproduces": verification.reproduces,
        "document KiB": len(json.dumps(document, ensure_ascii=False).encode()) / 1024,
        "page GET, first visit ms": cold * 1000,
        "page GET, later visits p50 ms": percentile(pages, 0.5) * 1000,
        "page KiB": len(response.content) / 1024,
    }


def spread(values: list[float]) -> str:
    return f"{percentile(values, 0.5):.2f} / {percentile(values, 0.95):.2f}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def browser_figures(instance, auditor) -> dict:
    from django.conf import settings
    from django.test import Client
    from playwright.sync_api import sync_playwright

    client = Client()
    client.force_login(auditor)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", "--insecure", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
            )
            context = chromium.new_context(viewport={"width": 1400, "height": 1000})
            context.add_cookies(
                [
                    {
                        "name": settings.SESSION_COOKIE_NAME,
                        "value": session,
                        "url": f"http://127.0.0.1:{port}",
                    }
                ]
            )
            page = context.new_page()
            url = f"http://127.0.0.1:{port}/audit/cases/{instance.pk}/"
            start = time.perf_counter()
            page.goto(url)  # the server re-executes the case (and keeps the result)
            page.wait_for_selector("#replay[data-ready=true]", timeout=120_000)
            cold = time.perf_counter() - start
            first_paints, in_page = [], []
            for _ in range(3):
                start = time.perf_counter()
                page.goto(url)
                page.wait_for_selector("#replay[data-ready=true]", timeout=120_000)
                first_paints.append(time.perf_counter() - start)
                in_page.append(page.evaluate("window.fzReplay.firstPaintMs") / 1000)
            steps = []
            for _ in range(300):
                page.keyboard.press("ArrowRight")
                steps.append(page.evaluate("window.fzReplay.lastStepMs"))
            total = page.evaluate("window.fzReplay.steps.length")
            jumps = []
            for target in random.Random(7).sample(range(total), 100):
                jumps.append(
                    page.evaluate(f"window.fzReplay.show({target}), window.fzReplay.lastStepMs")
                )
            chromium.close()
    finally:
        server.terminate()
        server.wait(10)
    return {
        "first visit: navigation to first step painted ms": cold * 1000,
        "later visits: navigation to first step painted p50 ms": percentile(first_paints, 0.5)
        * 1000,
        "of which in the page (parse, draw, paint) ms": percentile(in_page, 0.5) * 1000,
        "step (→ key) p50 / p95 ms": spread(steps),
        "jump (random step) p50 / p95 ms": spread(jumps),
    }


def insert_chains(total: int) -> float:
    """``total`` events on CHAINS chains, hashed exactly as the application hashes them."""
    from datetime import UTC, datetime, timedelta

    from workflows.models import AuditEvent, AuditHead
    from workflows.services.audit import build_event

    per_chain = max(1, total // CHAINS)
    moment = datetime(2025, 1, 1, tzinfo=UTC)
    began = time.perf_counter()
    batch, heads = [], []
    for chain in range(CHAINS):
        stream, previous = f"bench:{chain}", ""
        for sequence in range(1, per_chain + 1):
            event = build_event(
                stream=stream,
                sequence=sequence,
                previous_hash=previous,
                actor="county",
                kind="record_changed",
                element_id="reviewed",
                payload={"record": chain, "round": sequence, "opinion": "同意"},
                at=moment + timedelta(seconds=sequence),
            )
            previous = event.hash
            batch.append(event)
            if len(batch) >= 20_000:
                AuditEvent.objects.bulk_create(batch, batch_size=2000)
                batch = []
        heads.append(AuditHead(stream=stream, sequence=per_chain, head=previous))
    AuditEvent.objects.bulk_create(batch, batch_size=2000)
    AuditHead.objects.bulk_create(heads)
    log(f"{per_chain * CHAINS} events inserted in {time.perf_counter() - began:.0f} s")
    return per_chain * CHAINS


def verification_figures(events: int) -> dict:
    from workflows.services.audit import audit_verify

    inserted = insert_chains(events)
    began = time.perf_counter()
    checked, breaks = audit_verify()
    seconds = time.perf_counter() - began
    return {
        "events checked": checked,
        "of them bench chains": inserted,
        "breaks": len(breaks),
        "seconds": seconds,
        "events/s": checked / seconds,
    }


def show(title: str, figures: dict) -> None:
    print(f"\n{title}")
    for name, value in figures.items():
        text = f"{value:,.1f}" if isinstance(value, float) else str(value)
        print(f"  {name:<48} {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=250)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument(
        "--lengths-only", action="store_true", help="only the first-visit replay by case length"
    )
    parser.add_argument(
        "--repeats", type=int, default=5, help="first visits measured per case length"
    )
    args = parser.parse_args()
    backend = "postgresql" if args.postgres else "sqlite"
    with tempfile.TemporaryDirectory(prefix="fuzhu-bench-audit-") as workdir:
        use_database(backend, Path(workdir))
        try:
            load = os.getloadavg()[0]
            print(f"Fuzhu audit bench · {backend} · {os.cpu_count()} CPUs · load {load:.2f}")
            people = make_people()
            auditor = people["auditor"]
            show(
                "First-visit replay by case length (rounds of 8 events; page GET, test client)",
                length_figures(people, args.repeats),
            )
            if args.lengths_only:
                return
            instance = make_case(args.rounds, people)
            show(
                f"Replay of one case ({args.rounds} correction rounds), server",
                server_figures(instance, auditor),
            )
            if not args.no_browser and Path(CHROMIUM).exists():
                show("Replay in Chromium", browser_figures(instance, auditor))
            elif not args.no_browser:
                print(f"\n(no {CHROMIUM}: the browser figures were not measured)")
            show(f"Verification of {args.events:,} events", verification_figures(args.events))
        finally:
            if backend == "postgresql":
                from django.db import connections

                connections.close_all()
                pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")


if __name__ == "__main__":
    main()
