"""The inbox: whose tasks, counts, filters, sorting, claiming, and a fixed number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import TOWNSHIP_A, TOWNSHIP_B
from workflows.models import HumanTask, HumanTaskState
from workflows.services.tasks import task_claim

from .conftest import KEY


def rows(response) -> list[int]:
    return [task.pk for task in response.context["page"]]


def test_a_township_officer_sees_only_their_townships_tasks(
    start_case, township_a, township_b, client_for
):
    in_a = start_case(township_a, index=1)
    start_case(township_b, index=2)
    response = client_for(township_a).get("/?tab=group")
    assert response.status_code == 200
    assert rows(response) == [in_a.human_tasks.get().pk]
    assert response.context["counts"] == {"mine": 0, "claimable": 1}
    assert "乡镇初审" in response.content.decode()


def test_the_inbox_is_in_chinese_by_default_whatever_the_browser_asks(
    start_case, township_a, client_for
):
    start_case(township_a)
    body = client_for(township_a).get("/", HTTP_ACCEPT_LANGUAGE="en-US,en").content.decode()
    assert "我的待办" in body and "认领" in body
    assert "My tasks" not in body


def test_claim_moves_a_task_from_the_group_tab_to_mine_and_unclaim_moves_it_back(
    start_case, township_a, client_for
):
    task = start_case(township_a).human_tasks.get()
    client = client_for(township_a)
    response = client.post(f"/tasks/{task.pk}/claim/", {"next": "/?tab=group"})
    assert response.status_code == 302 and response.url == "/?tab=group"
    task.refresh_from_db()
    assert task.assignee == township_a
    mine = client.get("/")  # with a claimed task the inbox opens on "my tasks"
    assert mine.context["tab"] == "mine" and rows(mine) == [task.pk]
    assert mine.context["counts"] == {"mine": 1, "claimable": 0}
    client.post(f"/tasks/{task.pk}/unclaim/")
    task.refresh_from_db()
    assert task.assignee is None


def test_claiming_a_task_someone_else_holds_shows_why_and_changes_nothing(
    start_case, township_a, make_user, client_for
):
    colleague = make_user("colleague", ("township_staff", TOWNSHIP_A))
    task = start_case(township_a).human_tasks.get()
    task_claim(task_id=task.pk, user=colleague)
    response = client_for(township_a).post(f"/tasks/{task.pk}/claim/", follow=True)
    assert "已由colleague认领" in response.content.decode()
    task.refresh_from_db()
    assert task.assignee == colleague


def test_bulk_claim_claims_each_selected_task_and_reports_the_ones_refused(
    start_case, township_a, township_b, client_for
):
    mine = [start_case(township_a, index=i).human_tasks.get().pk for i in range(1, 4)]
    foreign = start_case(township_b, index=9).human_tasks.get().pk
    response = client_for(township_a).post("/tasks/claim/", {"task": [*mine, foreign]}, follow=True)
    assert set(HumanTask.objects.filter(assignee=township_a).values_list("pk", flat=True)) == set(
        mine
    )
    body = response.content.decode()
    assert "3" in body and "不属于您的岗位或组织机构" in body


def test_filters_by_procedure_task_township_and_search(
    start_case, county_clerk, township_a, township_b, client_for
):
    a = start_case(township_a, index=1, name="王秀英", org_unit=TOWNSHIP_A)
    b = start_case(township_b, index=2, name="李建国", org_unit=TOWNSHIP_B)
    county = client_for(county_clerk)
    assert county.get("/?tab=group").context["counts"]["claimable"] == 0  # not a county task
    township_staff = client_for(township_a)
    assert rows(township_staff.get(f"/?tab=group&procedure={KEY}&task=township_check")) == [
        a.human_tasks.get().pk
    ]
    assert rows(township_staff.get("/?tab=group&procedure=other")) == []
    assert rows(township_staff.get(f"/?tab=group&township={TOWNSHIP_B}")) == []
    assert rows(township_staff.get("/?tab=group&q=王秀")) == [a.human_tasks.get().pk]
    assert rows(township_staff.get("/?tab=group&q=HZ-001")) == [a.human_tasks.get().pk]
    assert rows(township_staff.get(f"/?tab=group&q={a.variables['applicant_id'][:12]}")) == [
        a.human_tasks.get().pk
    ]
    assert b.human_tasks.get().scope == TOWNSHIP_B


def test_due_filters_sorting_and_overdue_rows(start_case, township_a, client_for):
    with time_machine.travel(timezone.now() - timedelta(days=10)):
        old = start_case(township_a, index=1).human_tasks.get()  # due 5 days ago
    with time_machine.travel(timezone.now() - timedelta(days=4)):
        soon = start_case(township_a, index=2).human_tasks.get()  # due in a day
    fresh = start_case(township_a, index=3).human_tasks.get()  # due in 5 days
    client = client_for(township_a)
    assert rows(client.get("/?tab=group&due=overdue")) == [old.pk]
    assert rows(client.get("/?tab=group&due=soon")) == [soon.pk]
    assert rows(client.get("/?tab=group&due=later")) == [fresh.pk]
    assert rows(client.get("/?tab=group&sort=due")) == [old.pk, soon.pk, fresh.pk]
    HumanTask.objects.filter(pk=fresh.pk).update(created_at=timezone.now() - timedelta(days=30))
    assert rows(client.get("/?tab=group&sort=age")) == [fresh.pk, old.pk, soon.pk]
    body = client.get("/?tab=group").content.decode()
    assert f'class="task-row overdue" data-task="{old.pk}"' in body
    assert f'class="task-row" data-task="{fresh.pk}"' in body


def test_pages_of_25(start_case, township_a, client_for, settings):
    for index in range(1, 28):
        start_case(township_a, index=index)
    client = client_for(township_a)
    first, second = client.get("/?tab=group"), client.get("/?tab=group&page=2")
    assert len(rows(first)) == 25 and len(rows(second)) == 2
    assert "第 1 页，共 2 页" in first.content.decode()


@pytest.mark.parametrize("tab", ["mine", "group"])
def test_the_number_of_queries_does_not_grow_with_the_tasks(
    tab, start_case, township_a, client_for
):
    client = client_for(township_a)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/?tab={tab}&procedure={KEY}").status_code == 200
        return len(captured)

    start_case(township_a, index=1)
    start_case(township_a, index=2)
    task_claim(task_id=HumanTask.objects.order_by("pk").first().pk, user=township_a)
    queries()  # warm the per-process cache of the diagrams' task names
    few = queries()
    for index in range(3, 23):
        instance = start_case(township_a, index=index)
        task_claim(task_id=instance.human_tasks.get().pk, user=township_a) if index % 2 else None
    assert HumanTask.objects.filter(state=HumanTaskState.OPEN).count() == 22
    assert queries() == few


def test_the_inbox_needs_a_log_in(client):
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith("/login/")
