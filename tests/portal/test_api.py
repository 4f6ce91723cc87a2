"""The portal's actions in the REST API, and a schemathesis run against /api/schema/."""

from __future__ import annotations

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from workflows.models import HumanTaskState

from .conftest import KEY, VALID_CHECK


def test_draft_counts_search_startable_and_documents(api, start_case, township_a, owner):
    instance = start_case(township_a)
    task = instance.human_tasks.get()
    client = api(township_a)
    assert client.get("/api/tasks/counts/").json() == {"mine": 0, "claimable": 1}
    draft = client.post(f"/api/tasks/{task.pk}/draft/", {"data": {"x": 1}}, format="json")
    assert draft.status_code == 200
    task.refresh_from_db()
    assert task.draft_data == {"x": 1} and task.state == HumanTaskState.OPEN
    bad = client.post(
        f"/api/tasks/{task.pk}/complete/", {"data": {"contact_phone": "1"}}, format="json"
    )
    assert bad.status_code == 400
    fields = {e["field"] for e in bad.json()["errors"]}
    assert {"contact_phone", "household_size", "township_decision"} <= fields
    assert [r["key"] for r in client.get("/api/process-definitions/startable/").json()] == [KEY]
    found = client.get("/api/process-instances/search/", {"q": "王秀"}).json()
    assert [r["id"] for r in found["results"]] == [instance.pk]
    listed = client.get("/api/tasks/", {"due": "later", "q": "HZ-001", "order": "age"}).json()
    assert [r["id"] for r in listed["results"]] == [task.pk]
    upload = SimpleUploadedFile("scan.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 8)
    attached = client.post(f"/api/process-instances/{instance.pk}/documents/", {"file": upload})
    assert attached.status_code == 201 and len(attached.json()["sha256"]) == 64
    listed = client.get(f"/api/process-instances/{instance.pk}/documents/").json()
    assert [d["filename"] for d in listed] == ["scan.png"]
    body = client.get(f"/api/documents/{attached.json()['id']}/")
    assert body["X-Checksum-SHA256"] == attached.json()["sha256"]
    ok = client.post(f"/api/tasks/{task.pk}/complete/", {"data": VALID_CHECK}, format="json")
    assert ok.status_code == 200
    stats = api(owner).get(f"/api/process-definitions/{KEY}/statistics/").json()
    assert stats["waiting"] == {"county_review": 1}
    assert api(township_a).get(f"/api/process-definitions/{KEY}/statistics/").status_code == 403
    xml = client.get(f"/api/process-definitions/{instance.definition_id}/xml/")
    assert xml.status_code == 200 and b"certificate_renewal" in xml.content


@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_server_error(start_case, township_a, owner):
    """Every operation of /api/schema/, generated requests from a signed-in officer: no 5xx."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from rest_framework.authtoken.models import Token

    from config.wsgi import application

    start_case(township_a)
    token = Token.objects.create(user=township_a).key
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    checks = [schemathesis.checks.not_a_server_error]
    failures, calls = [], []
    for operation in schema.get_all_operations():
        operation = operation.ok()

        @settings(
            max_examples=int(os.environ.get("FUZHU_API_FUZZ_EXAMPLES", "8")),
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(case=operation.as_strategy())
        def run(case):
            response = case.call(headers={"Authorization": f"Token {token}"})
            calls.append(response.status_code)
            case.validate_response(response, checks=checks)

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {exc}")
    assert failures == []
    assert len(calls) > 50 and max(calls) < 500


def test_a_nul_character_anywhere_in_a_request_is_a_clear_400(client, township_a):
    client.force_login(township_a)
    response = client.get("/api/registry/persons/", {"org_unit": "33\x0001"})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "the request contains a NUL character, which is not allowed"
    }
    assert client.get("/cases/", {"q": "a\x00b"}).status_code == 400
