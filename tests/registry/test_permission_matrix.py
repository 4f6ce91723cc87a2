"""Who reaches what, through every door: registry API, task API, portal and registry pages.

Township A's staff get 404 for township B's persons, certificates, cases and tasks; the auditor
reads everything and changes nothing (403); a provider sees only the cases assigned to it.
"""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from registry.models import Certificate, ImportBatch, Person, RegistryEvent
from tests.registry.conftest import FIXTURES
from tests.registry.factories import PROVIDER_X, PROVIDER_Y, TOWNSHIP_A, TOWNSHIP_B
from workflows.models import HumanTask, HumanTaskState
from workflows.services.definitions import definition_deploy
from workflows.services.instances import instance_start
from workflows.services.tasks import task_claim, task_complete

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def cases(owner, county_staff, township_a_staff, township_b_staff):
    """A fitting case in each township, past the township check: one provider task each."""
    definition_deploy(content=(FIXTURES / "fitting.bpmn").read_bytes(), user=owner)
    found = {}
    for township, staff, institution in (
        (TOWNSHIP_A, township_a_staff, PROVIDER_X),
        (TOWNSHIP_B, township_b_staff, PROVIDER_Y),
    ):
        instance = instance_start(
            process_key="registry_fitting",
            user=county_staff,
            org_unit=township,
            variables={"institution": institution},
        )
        check = instance.human_tasks.get(element_id="township_check")
        task_claim(task_id=check.pk, user=staff)
        task_complete(task_id=check.pk, user=staff, data={})
        found[township] = instance
    return found


def _task(instance, element_id="fitting") -> HumanTask:
    return instance.human_tasks.get(element_id=element_id, state=HumanTaskState.OPEN)


def person_endpoints(person):
    certificate = Certificate.objects.filter(person=person).first()
    return {
        "GET detail": ("get", f"/api/registry/persons/{person.pk}/", None),
        "PATCH": ("patch", f"/api/registry/persons/{person.pk}/", {"phone": "13900000000"}),
        "reveal": ("post", f"/api/registry/persons/{person.pk}/reveal/", None),
        "card": (
            "put",
            f"/api/registry/persons/{person.pk}/card/",
            {"kind": "bank_card", "number": "6228480012345678"},
        ),
        "issue": (
            "post",
            f"/api/registry/persons/{person.pk}/certificates/",
            {"category": 4, "grade": 3, "issued_on": "2024-01-01"},
        ),
        "GET certificate": ("get", f"/api/registry/certificates/{certificate.pk}/", None),
        "cancel": ("post", f"/api/registry/certificates/{certificate.pk}/cancel/", {"reason": "x"}),
        "renew": (
            "post",
            f"/api/registry/certificates/{certificate.pk}/renew/",
            {"issued_on": "2025-01-01"},
        ),
        "reissue": (
            "post",
            f"/api/registry/certificates/{certificate.pk}/reissue/",
            {"reason": "遗失"},
        ),
    }


def call(client, method, url, body):
    return (
        getattr(client, method)(url, body, format="json") if body else getattr(client, method)(url)
    )


def test_township_a_staff_cannot_reach_township_b_persons_or_certificates(
    township_a_staff, person_a, person_b
):
    client = api(township_a_staff)
    for name, (method, url, body) in person_endpoints(person_b).items():
        assert call(client, method, url, body).status_code == 404, name
    listed = {p["id"] for p in client.get("/api/registry/persons/").json()["results"]}
    assert listed == {person_a.pk}
    certificates = {
        c["person"] for c in client.get("/api/registry/certificates/").json()["results"]
    }
    assert certificates == {person_a.pk}
    assert web(township_a_staff).get(f"/registry/persons/{person_b.pk}/").status_code == 404
    assert web(township_a_staff).post(f"/registry/persons/{person_b.pk}/").status_code == 404
    assert person_b.name not in web(township_a_staff).get("/registry/persons/").content.decode()
    assert not RegistryEvent.objects.filter(kind="person_revealed").exists()
    assert Person.objects.get(pk=person_b.pk).phone == ""


def test_township_a_staff_cannot_reach_township_b_tasks_or_cases(
    township_a_staff, township_b_staff, cases
):
    client = api(township_a_staff)
    b_case = cases[TOWNSHIP_B]
    b_check = b_case.human_tasks.get(element_id="township_check")
    assert client.get(f"/api/process-instances/{b_case.pk}/").status_code == 404
    assert client.get(f"/api/process-instances/{b_case.pk}/history/").status_code == 404
    open_b = _task(b_case)
    assert client.get(f"/api/tasks/{open_b.pk}/").status_code == 404
    for action in ("claim", "complete"):  # unclaim: see its own test below
        response = client.post(f"/api/tasks/{open_b.pk}/{action}/", {"data": {}}, format="json")
        assert response.status_code in (403, 404), action
    assert client.get(f"/api/tasks/{b_check.pk}/").status_code == 404
    assert client.get("/api/tasks/").json()["count"] == 0  # the provider steps are not theirs
    page = web(township_a_staff)
    for url in (f"/tasks/{open_b.pk}/", f"/tasks/{b_check.pk}/", f"/cases/{b_case.pk}/"):
        assert page.get(url).status_code in (403, 404), url
    # The portal's claim button answers a refusal with a redirect and a message (portal's
    # choice); what matters here is that nothing was claimed.
    assert page.post(f"/tasks/{open_b.pk}/claim/").status_code in (302, 403, 404)
    assert open_b.pk == _task(b_case).pk and _task(b_case).assignee_id is None
    inbox = web(township_b_staff).get("/").content.decode()
    assert "适配服务" not in inbox  # township B's staff do not do the provider's work either


def test_the_auditor_reads_everything_and_changes_nothing(auditor, person_a, person_b, cases):
    client = api(auditor)
    listed = {p["id"] for p in client.get("/api/registry/persons/").json()["results"]}
    assert listed == {person_a.pk, person_b.pk}
    for person in (person_a, person_b):
        for name, (method, url, body) in person_endpoints(person).items():
            status = call(client, method, url, body).status_code
            if name.startswith("GET") or name == "reveal":
                assert status == 200, name
            else:
                assert status == 403, name
    revealed = client.post(f"/api/registry/persons/{person_a.pk}/reveal/").json()
    assert revealed["citizen_id"] == person_a.citizen_id  # audited full view
    assert revealed["card_number"] == ""
    upload = client.post("/api/registry/imports/", {"file": b"x"}, format="multipart")
    assert upload.status_code in (400, 403)
    assert not ImportBatch.objects.exists()
    assert client.get("/api/registry/export/").status_code == 200
    for instance in cases.values():
        assert client.get(f"/api/process-instances/{instance.pk}/").status_code == 200
        task = _task(instance)
        response = client.post(f"/api/tasks/{task.pk}/claim/")
        assert response.status_code in (403, 404)
    assert Person.objects.get(pk=person_a.pk).phone == "13800000001"
    assert Certificate.objects.filter(status="valid").count() == 2


def test_a_provider_sees_only_its_assigned_cases(
    provider_x, person_a, person_b, assigned_to_x, cases
):
    client = api(provider_x)
    listed = {p["id"] for p in client.get("/api/registry/persons/").json()["results"]}
    assert listed == {person_b.pk}
    assert client.get(f"/api/registry/persons/{person_a.pk}/").status_code == 404
    assert client.get(f"/api/registry/persons/{person_b.pk}/").status_code == 200
    assert (
        client.patch(
            f"/api/registry/persons/{person_b.pk}/", {"phone": "1"}, format="json"
        ).status_code
        == 403
    )
    tasks = client.get("/api/tasks/").json()["results"]
    assert [(t["element_id"], t["scope"]) for t in tasks] == [("fitting", PROVIDER_X)]
    other = _task(cases[TOWNSHIP_B])
    assert client.get(f"/api/tasks/{other.pk}/").status_code == 404
    assert client.post(f"/api/tasks/{other.pk}/claim/").status_code in (403, 404)
    mine = _task(cases[TOWNSHIP_A])
    assert client.post(f"/api/tasks/{mine.pk}/claim/").status_code == 200
    assert "适配服务" in web(provider_x).get("/").content.decode()


def test_another_provider_does_not_see_a_case_assigned_elsewhere(
    provider_y, person_b, assigned_to_x
):
    client = api(provider_y)
    assert client.get("/api/registry/persons/").json()["count"] == 0
    assert client.get(f"/api/registry/persons/{person_b.pk}/").status_code == 404


def test_county_staff_reach_every_township(county_staff, person_a, person_b):
    client = api(county_staff)
    listed = {p["id"] for p in client.get("/api/registry/persons/").json()["results"]}
    assert listed == {person_a.pk, person_b.pk}
    response = client.patch(
        f"/api/registry/persons/{person_b.pk}/", {"phone": "13900000000"}, format="json"
    )
    assert response.status_code == 200
    assert RegistryEvent.objects.filter(kind="person_changed").count() == 1


def test_anonymous_callers_are_refused_everywhere(person_a):
    client = APIClient()
    for url in (
        "/api/registry/persons/",
        f"/api/registry/persons/{person_a.pk}/",
        "/api/registry/export/",
    ):
        assert client.get(url).status_code in (401, 403)
    assert Client().get("/registry/persons/").status_code == 302


def test_unclaiming_a_task_elsewhere_does_not_reveal_it(township_a_staff, provider_y, cases):
    open_b = _task(cases[TOWNSHIP_B])
    client = api(township_a_staff)
    unclaimed = client.post(f"/api/tasks/{open_b.pk}/unclaim/")
    task_claim(task_id=open_b.pk, user=provider_y)
    claimed = client.post(f"/api/tasks/{open_b.pk}/unclaim/")
    # not 409 "is not claimed" / "is claimed by provider_y_lin": existence and who holds it
    assert (unclaimed.status_code, claimed.status_code) in {(403, 403), (404, 404)}
