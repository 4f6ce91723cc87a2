"""Case pages, case search, the start catalog and form, and operations for process owners."""

from __future__ import annotations

import json

import pytest

from tests.conftest import BPMN
from workflows.models import HumanTask, InstanceState, ProcessInstance
from workflows.services.definitions import definition_deploy
from workflows.services.instances import instance_start
from workflows.services.tasks import task_complete

from .conftest import KEY, VALID_CHECK, applicant


def test_the_case_page_marks_the_path_and_current_step_and_lists_the_timeline(
    start_case, township_a, client_for
):
    instance = start_case(township_a)
    task_complete(task_id=instance.human_tasks.get().pk, user=township_a, data=VALID_CHECK)
    response = client_for(township_a).get(f"/cases/{instance.pk}/")
    assert response.status_code == 200
    marks = response.context["marks"]
    assert marks["current"] == ["county_review"]
    assert {"application_received", "township_check", "township_decision_gateway"} <= set(
        marks["completed"]
    )
    kinds = [entry.event.kind for entry in response.context["timeline"]]
    assert kinds == ["instance_started", "task_completed"]
    completed = response.context["timeline"][1]
    assert completed.element == "乡镇初审" and ("家庭人口（人）", 3) in completed.changes
    assert f"/definitions/{instance.definition_id}/diagram.bpmn" in response.content.decode()
    xml = client_for(township_a).get(f"/definitions/{instance.definition_id}/diagram.bpmn")
    assert xml.status_code == 200 and b"bpmndi:BPMNDiagram" in xml.content


def test_a_case_outside_the_users_units_is_not_found(
    start_case, township_a, township_b, client_for
):
    instance = start_case(township_a)
    assert client_for(township_b).get(f"/cases/{instance.pk}/").status_code == 404


def test_case_search_by_business_key_name_and_id_within_reach(
    start_case, township_a, township_b, client_for
):
    mine = start_case(township_a, index=1, name="王秀英")
    start_case(township_b, index=2, name="王建军")
    client = client_for(township_a)
    found = lambda q: [i.pk for i in client.get("/cases/", {"q": q}).context["page"]]  # noqa: E731
    assert found("王") == [mine.pk]  # the other township's 王 is out of reach
    assert found("HZ-001") == [mine.pk]
    assert found(mine.variables["applicant_id"]) == [mine.pk]
    assert found("nobody") == []


def test_the_catalog_lists_only_procedures_the_user_may_start(
    renewal, township_a, county_clerk, client_for
):
    assert [d.key for d, _ in client_for(township_a).get("/start/").context["rows"]] == [KEY]
    assert client_for(county_clerk).get("/start/").context["rows"] == []
    assert client_for(county_clerk).get(f"/start/{KEY}/").status_code == 403
    assert client_for(county_clerk).get("/start/no_such/").status_code == 404


def test_the_start_form_validates_and_starts_a_case(renewal, township_a, client_for):
    client = client_for(township_a)
    page = client.get(f"/start/{KEY}/")
    assert page.context["schema"]["id"] == "certificate_renewal_start"
    bad = {**applicant(1), "applicant_id": "12345"}
    response = client.post(f"/start/{KEY}/", {"data": json.dumps(bad), "business_key": "HZ-9"})
    assert response.status_code == 400
    assert response.context["form_errors"] == {
        "applicant_id": ["身份证号应为 18 位，12345 有 5 位。"]
    }
    assert response.context["form_data"] == bad and not ProcessInstance.objects.exists()
    response = client.post(
        f"/start/{KEY}/", {"data": json.dumps(applicant(1)), "business_key": "HZ-9"}
    )
    instance = ProcessInstance.objects.get()
    assert response.status_code == 302 and response.url == f"/cases/{instance.pk}/"
    assert instance.business_key == "HZ-9" and instance.started_by == township_a
    assert instance.human_tasks.get().element_id == "township_check"


def test_operations_are_for_process_owners(township_a, client_for):
    for url in ("/ops/", "/ops/instances/", f"/ops/procedures/{KEY}/"):
        assert client_for(township_a).get(url).status_code == 403


@pytest.fixture
def incident(owner, county_clerk):
    definition_deploy(content=(BPMN / "failing_condition.bpmn").read_bytes(), user=owner)
    instance = instance_start(process_key="failing_condition", user=county_clerk)
    with pytest.raises(Exception, match="步骤 divide 出错"):
        task_complete(
            task_id=instance.human_tasks.get().pk,
            user=county_clerk,
            data={"total": 100, "persons": 0},
        )
    instance.refresh_from_db()
    return instance


def test_the_overview_counts_cases_and_lists_incidents_with_a_retry(
    start_case, township_a, owner, incident, client_for
):
    start_case(township_a, index=1)
    start_case(township_a, index=2)
    client = client_for(owner)
    page = client.get("/ops/")
    counts = {key: (states, total) for key, _name, states, total in page.context["procedures"]}
    assert counts[KEY][1] == 2 and counts["failing_condition"][1] == 1
    assert [i.pk for i in page.context["incidents"]] == [incident.pk]
    assert "ZeroDivisionError" in page.content.decode()
    listed = client.get("/ops/instances/", {"procedure": KEY, "state": "running"})
    assert len(listed.context["page"]) == 2
    response = client.post(f"/cases/{incident.pk}/retry/", {"next": "/ops/"})
    assert response.status_code == 302 and response.url == "/ops/"
    incident.refresh_from_db()
    assert incident.state == InstanceState.RUNNING


def test_suspend_resume_and_terminate_need_a_reason_where_the_service_asks(
    start_case, township_a, owner, client_for
):
    instance = start_case(township_a)
    client = client_for(owner)
    client.post(f"/cases/{instance.pk}/suspend/", {"reason": "等待补充材料"})
    instance.refresh_from_db()
    assert instance.state == InstanceState.SUSPENDED
    client.post(f"/cases/{instance.pk}/resume/")
    instance.refresh_from_db()
    assert instance.state == InstanceState.RUNNING
    refused = client.post(f"/cases/{instance.pk}/terminate/", {"reason": ""}, follow=True)
    assert "请填写原因。" in refused.content.decode()
    client.post(f"/cases/{instance.pk}/terminate/", {"reason": "申请人撤回申请"})
    instance.refresh_from_db()
    assert instance.state == InstanceState.TERMINATED and instance.end_reason == "申请人撤回申请"
    assert client_for(township_a).post(f"/cases/{instance.pk}/suspend/").status_code == 403


def test_the_procedure_overlay_counts_cases_waiting_at_each_step(
    start_case, township_a, owner, client_for
):
    for index in range(1, 4):
        start_case(township_a, index=index)
    first = HumanTask.objects.order_by("pk").first()
    task_complete(task_id=first.pk, user=township_a, data=VALID_CHECK)
    page = client_for(owner).get(f"/ops/procedures/{KEY}/")
    assert page.context["marks"]["counts"] == {"township_check": 2, "county_review": 1}
