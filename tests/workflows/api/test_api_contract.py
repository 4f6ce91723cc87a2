"""The REST API (docs/architecture.md), call by call, including its error answers."""

import pytest
from rest_framework.test import APIClient

from tests.conftest import TOWNSHIP_A
from workflows.models import HumanTask, ProcessInstance

pytestmark = pytest.mark.django_db


@pytest.fixture
def started(deploy, api, township_a):
    deploy("lanes_and_gateway")
    response = api(township_a).post(
        "/api/process-instances/",
        {"process_key": "lanes_and_gateway", "business_key": "MED-2025-001", "variables": {"a": 1}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_token_auth_lets_a_script_call_the_api(township_a):
    client = APIClient()
    response = client.post(
        "/api/auth/token/", {"username": "township_a", "password": "pw-township_a"}, format="json"
    )
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/api/tasks/").status_code == 200


def test_anonymous_callers_are_refused(db):
    assert APIClient().get("/api/tasks/").status_code in (401, 403)


def test_start_returns_the_new_instance(started):
    assert set(started) >= {"id", "state", "process_key", "version"}
    assert (started["state"], started["process_key"], started["version"]) == (
        "running",
        "lanes_and_gateway",
        1,
    )


def test_start_with_an_unknown_key_is_a_400_naming_the_key(api, township_a):
    response = api(township_a).post(
        "/api/process-instances/", {"process_key": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "没有已部署的业务“nope”。",
        "errors": [{"field": "process_key", "message": "没有已部署的业务“nope”。"}],
    }
    assert ProcessInstance.objects.count() == 0


@pytest.mark.parametrize("variables", [[1, 2], "x", 5])
def test_start_with_variables_that_are_not_an_object_is_a_400(deploy, api, township_a, variables):
    deploy("lanes_and_gateway")
    response = api(township_a).post(
        "/api/process-instances/",
        {"process_key": "lanes_and_gateway", "variables": variables},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "variables", "message": "variables 必须是一个 JSON 对象。"}
    ]
    assert ProcessInstance.objects.count() == 0


def test_instance_detail_shows_variables_and_active_tasks(api, started, township_a):
    body = api(township_a).get(f"/api/process-instances/{started['id']}/").json()
    assert body["business_key"] == "MED-2025-001"
    assert body["variables"] == {"a": 1}
    assert [t["element_id"] for t in body["active_tasks"]] == ["township_check"]


def test_another_township_cannot_see_the_instance(api, started, township_b):
    response = api(township_b).get(f"/api/process-instances/{started['id']}/")
    assert response.status_code == 404
    assert (
        api(township_b).get(f"/api/process-instances/{started['id']}/history/").status_code == 404
    )


def test_history_lists_events_oldest_first_with_their_hashes(api, started, township_a):
    events = api(township_a).get(f"/api/process-instances/{started['id']}/history/").json()
    assert [e["sequence"] for e in events] == [1]
    assert events[0]["kind"] == "instance_started" and len(events[0]["hash"]) == 64


def test_inbox_is_paginated_and_filtered(api, started, township_a):
    body = api(township_a).get("/api/tasks/").json()
    assert body["count"] == 1 and body["results"][0]["business_key"] == "MED-2025-001"
    assert api(township_a).get("/api/tasks/?assigned=me").json()["count"] == 0
    assert api(township_a).get("/api/tasks/?process_key=other").json()["count"] == 0
    assert api(township_a).get("/api/tasks/?state=unclaimed").json()["count"] == 1


def test_claim_complete_and_the_error_statuses(api, started, township_a, township_b, make_user):
    task_id = HumanTask.objects.get().pk
    mine, theirs = api(township_a), api(township_b)
    colleague = api(make_user("colleague", ("township_staff", TOWNSHIP_A)))

    assert theirs.post(f"/api/tasks/{task_id}/claim/").status_code == 403
    assert mine.post(f"/api/tasks/{task_id}/claim/").status_code == 200
    assert api(township_a).get("/api/tasks/?assigned=me").json()["count"] == 1
    taken = colleague.post(f"/api/tasks/{task_id}/claim/")
    assert taken.status_code == 409
    assert taken.json() == {"detail": "任务“乡镇初审”已由township_a认领。"}

    bad = mine.post(f"/api/tasks/{task_id}/complete/", {"data": [1]}, format="json")
    assert bad.status_code == 400
    assert bad.json()["errors"] == [{"field": "data", "message": "data 必须是一个 JSON 对象。"}]

    done = mine.post(f"/api/tasks/{task_id}/complete/", {"data": {"approved": True}}, format="json")
    assert done.status_code == 200 and done.json()["state"] == "completed"
    again = mine.post(
        f"/api/tasks/{task_id}/complete/", {"data": {"approved": True}}, format="json"
    )
    assert again.status_code == 409
    assert again.json() == {"detail": "任务“乡镇初审”已由township_a处理，当前为“已完成”。"}


def test_unclaim_returns_the_task_to_the_group(api, started, township_a):
    task_id = HumanTask.objects.get().pk
    client = api(township_a)
    client.post(f"/api/tasks/{task_id}/claim/")
    response = client.post(f"/api/tasks/{task_id}/unclaim/")
    assert response.status_code == 200 and response.json()["assignee"] is None


def test_operations_need_a_process_owner(api, started, township_a, owner):
    url = f"/api/process-instances/{started['id']}"
    assert api(township_a).post(f"{url}/suspend/", {"reason": "x"}).status_code == 403
    assert api(owner).post(f"{url}/suspend/", {"reason": "核查"}).json()["state"] == "suspended"
    assert api(owner).post(f"{url}/resume/").json()["state"] == "running"
    missing = api(owner).post(f"{url}/terminate/", {"reason": ""}, format="json")
    assert missing.status_code == 400
    assert missing.json()["errors"] == [{"field": "reason", "message": "此项为必填项。"}]
    ended = api(owner).post(f"{url}/terminate/", {"reason": "重复申请"}, format="json")
    assert ended.json()["state"] == "terminated"
    assert HumanTask.objects.get().state == "cancelled"


def test_the_openapi_document_describes_the_contract(api, township_a):
    response = api(township_a).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in [
        "/api/process-definitions/",
        "/api/process-instances/",
        "/api/process-instances/{id}/history/",
        "/api/tasks/",
        "/api/tasks/{id}/complete/",
        "/api/auth/token/",
    ]:
        assert path in paths
