"""The portal's device pages: each step's task page with the application beside its form, the
registration page, the application list and page, the settlement statements; an institution
sees only its own cases (404 for the others)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from django.test import Client

from processes.devices.models import ApplicationState, DeviceApplication

from .conftest import (
    ASSESSMENT,
    PROVIDER_X,
    TZ,
    complete,
    fire_timers,
    fit_and_accept,
    open_task,
    register,
    run_jobs,
    through_approval,
    through_checks,
)

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def script_json(response, element_id: str):
    html = response.content.decode()
    start = html.index(">", html.index(f'id="{element_id}"')) + 1
    return json.loads(html[start : html.index("</script>", start)])


def form_data(response) -> dict:
    return script_json(response, "fz-form-data")


def test_the_assessors_task_page_offers_the_catalogue_and_takes_the_plan(catalogue, staff, adult):
    application = register(staff["village"], adult)
    through_checks(application, staff)
    page = client_for(staff["county"]).get(
        f"/tasks/{open_task(application, 'assign_assessment').pk}/"
    )
    assert page.status_code == 200
    offered = form_data(page)["assessment_institution_options"]
    assert {o["value"] for o in offered} >= {ASSESSMENT}
    complete(application, "assign_assessment", staff["county"], assessment_institution=ASSESSMENT)

    task = open_task(application, "record_assessment")
    assessor = client_for(staff["assessor"])
    page = assessor.get(f"/tasks/{task.pk}/")
    assert page.status_code == 200
    codes = [o["value"] for o in form_data(page)["catalogue_options"]]
    assert "FZ-YD-01" in codes
    assert application.number in page.content.decode()
    # A bad row is refused with the row's field marked, and what was typed is shown again.
    plan = [{"device_code": "FZ-YD-01", "quantity": 20, "unit_price": 1500}]
    page = assessor.post(
        f"/tasks/{task.pk}/",
        {"action": "complete", "data": json.dumps({"assessment": "需轮椅", "plan": plan})},
    )
    assert page.status_code == 400
    assert "plan.0.quantity" in script_json(page, "fz-form-errors")
    assert form_data(page)["plan"] == plan and form_data(page)["catalogue_options"]
    plan[0]["quantity"] = 1
    page = assessor.post(
        f"/tasks/{task.pk}/",
        {"action": "complete", "data": json.dumps({"assessment": "需轮椅", "plan": plan})},
    )
    assert page.status_code == 302
    application.refresh_from_db()
    assert application.state == ApplicationState.APPROVAL


def test_another_institution_gets_404_for_the_case_and_its_application(catalogue, staff, adult):
    application = register(staff["village"], adult)
    through_approval(application, staff)
    fit_and_accept(application, staff)
    for user, status in ((staff["assessor_b"], 404), (staff["provider_y"], 404)):
        client = client_for(user)
        assert client.get(f"/devices/{application.pk}/").status_code == status
        assert client.get(f"/cases/{application.instance_id}/").status_code == status
        assert application.number not in client.get("/devices/").content.decode()
    for user in (staff["assessor"], staff["provider"], staff["township"], staff["county"]):
        page = client_for(user).get(f"/devices/{application.pk}/")
        assert page.status_code == 200, user
        assert "1,200.00" in page.content.decode()
        assert client_for(user).get(f"/cases/{application.instance_id}/").status_code == 200


def test_registering_on_the_apply_page(catalogue, staff, adult):
    client = client_for(staff["village"])
    page = client.get("/devices/apply/")
    assert page.status_code == 200
    assert any(o["value"] == "FZ-YD-03" for o in form_data(page)["catalogue_options"])
    page = client.post(
        "/devices/apply/",
        {"data": json.dumps({"citizen_id": adult.citizen_id, "reason": "行走困难"})},
    )
    assert page.status_code == 400  # neither devices nor an assessment
    assert DeviceApplication.objects.count() == 0
    page = client.post(
        "/devices/apply/",
        {
            "data": json.dumps(
                {
                    "citizen_id": adult.citizen_id,
                    "reason": "行走困难",
                    "requested_devices": ["FZ-YD-03"],
                }
            )
        },
    )
    application = DeviceApplication.objects.get()
    assert page.status_code == 302 and page["Location"] == f"/devices/{application.pk}/"
    assert application.registered_by == staff["village"]
    assert client.get("/devices/").status_code == 200


def test_settlement_statements_for_the_county_and_the_institution(clock, catalogue, staff, adult):
    application = register(staff["village"], adult)
    through_approval(application, staff)
    fit_and_accept(application, staff)
    fire_timers(clock, datetime(2025, 4, 1, 3, 0, tzinfo=TZ))
    run_jobs()
    statement = application.settlement_line.statement
    for user in (staff["county"], staff["finance"], staff["provider"]):
        client = client_for(user)
        assert statement.number in client.get("/devices/settlements/").content.decode()
        download = client.get(f"/devices/settlements/{statement.pk}.xlsx")
        assert download.status_code == 200
        assert b"".join(download.streaming_content)[:2] == b"PK"
    other = client_for(staff["provider_y"])
    assert statement.number not in other.get("/devices/settlements/").content.decode()
    assert other.get(f"/devices/settlements/{statement.pk}.xlsx").status_code == 404
    assert PROVIDER_X in statement.number or statement.institution.code == PROVIDER_X


def test_device_pages_show_the_applicants_id_and_phone_masked(catalogue, staff, adult):
    """The list, the application, its case and its task page: never the full ID or phone."""
    from registry.masking import CITIZEN_ID, mask

    application = register(staff["village"], adult)
    task = open_task(application, application.instance.human_tasks.get(state="open").element_id)
    urls = [
        "/devices/",
        f"/devices/{application.pk}/",
        f"/cases/{application.instance_id}/",
        f"/tasks/{task.pk}/",
    ]
    client = client_for(staff["village"])
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert adult.citizen_id not in page and mask(adult.citizen_id, CITIZEN_ID) in page, url
        assert "13805710001" not in page, url
