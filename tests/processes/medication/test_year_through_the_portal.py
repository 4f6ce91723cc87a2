"""A medication year driven through the portal's pages, as the clerks work it — the county
sending one township back, a failed bank payment, its correction and a follow-up batch — and
then read by the auditor: the chain is intact and re-executing the case reproduces every step."""

from __future__ import annotations

import pytest
from django.test import Client

from processes.medication.models import EntryState
from workflows.models import HumanTask, HumanTaskState
from workflows.selectors.case_replay import case_history, case_verify

from .conftest import TOWNSHIP_A, TOWNSHIP_B, open_tasks, run_jobs
from .test_year import bank_file

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("every_case_replays")]


def portal(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def task_url(instance, element: str, scope: str | None = None) -> str:
    tasks = open_tasks(instance, element)
    if scope is not None:
        tasks = tasks.filter(scope=scope)
    return f"/tasks/{tasks.get().pk}/"


def post(user, url: str, data: dict, *, done: bool = False) -> None:
    response = portal(user).post(url, data, follow=True)
    assert response.status_code == 200, response.content.decode()[:2000]
    if done:  # the task is complete: its page is no longer open
        task = HumanTask.objects.get(pk=int(url.strip("/").split("/")[-1]))
        assert task.state == HumanTaskState.COMPLETED, response.content.decode()[:3000]


def review(year, code: str, user) -> None:
    url = task_url(year.instance, "township_review", code)
    post(user, url, {"action": "bulk_approve"})
    for entry in year.cycle.entries.filter(township__code=code, state=EntryState.COMPARED):
        post(user, url, {"action": "reject", "entry": entry.pk, "reason": "不符合条件"})
    post(user, url, {"action": "complete", "note": "已核实"}, done=True)


def test_a_year_worked_in_the_portal_replays_true(year, make_user):
    year.start()
    for code, user in year.staff.items():
        post(user, task_url(year.instance, "survey", code), {"action": "complete"}, done=True)
    post(year.clerk, task_url(year.instance, "reference_data"), {"action": "complete"}, done=True)
    run_jobs()  # the comparison
    year.refresh()
    for code, user in year.staff.items():
        review(year, code, user)

    # The county sends one township back; it reviews again; the county approves.
    post(
        year.clerk,
        task_url(year.instance, "county_approval"),
        {"decision": "return", "township": TOWNSHIP_B, "reason": "请补充核实两户"},
        done=True,
    )
    post(
        year.staff[TOWNSHIP_B],
        task_url(year.instance, "township_re_review", TOWNSHIP_B),
        {"action": "complete", "note": "已补充核实"},
        done=True,
    )
    post(year.clerk, task_url(year.instance, "county_approval"), {"decision": "approve"}, done=True)
    year.refresh()
    post(
        year.finance,
        task_url(year.instance, "finance_approval"),
        {"decision": "approve", "confirmed_total": str(year.cycle.county_approved_total)},
        done=True,
    )
    run_jobs()  # the bank file

    # The bank pays all but one; the township corrects the card and the follow-up batch pays it.
    batch = year.cycle.batches.get()
    failing = batch.lines.filter(entry__township__code=TOWNSHIP_A).first()
    url = task_url(year.instance, "bank_return")
    post(year.clerk, url, {"file": bank_file(batch, failing=(failing.citizen_id,))})
    post(year.clerk, url, {"action": "complete"}, done=True)
    run_jobs()
    url = task_url(year.instance, "account_correction", TOWNSHIP_A)
    correction = {"action": "correct", "entry": failing.entry_id, "kind": "bank_card"}
    post(year.staff[TOWNSHIP_A], url, {**correction, "number": "6217001234567890123"})
    post(year.staff[TOWNSHIP_A], url, {"action": "complete"}, done=True)
    run_jobs()  # the follow-up batch
    second = year.cycle.batches.order_by("-number").first()
    assert second.number == 2 and second.lines.count() == 1
    url = task_url(year.instance, "bank_return")
    post(year.clerk, url, {"file": bank_file(second, name="回盘2.csv")})
    post(year.clerk, url, {"action": "complete"}, done=True)
    run_jobs()  # the cycle is closed and its report built
    post(year.clerk, task_url(year.instance, "cycle_report"), {"note": "归档"}, done=True)
    year.refresh()
    assert year.instance.state == "completed"

    auditor = make_user("shenji", ("auditor", ""))
    page = portal(auditor).get(f"/audit/cases/{year.instance.pk}/").content.decode()
    assert 'class="ok" id="chain-status"' in page
    assert 'class="ok" id="replay-status"' in page
    verification = case_verify(case_history(instance=year.instance))
    assert verification.intact and verification.reproduces
