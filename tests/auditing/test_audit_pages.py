"""The auditors' pages: search, replay, verification, PDF and JSON exports, and who sees what."""

import json

import pytest
from django.test import Client

from tests.conftest import TOWNSHIP_B
from tests.workflows.services.test_audit import raw_update
from workflows.models import AuditEvent, AuditVerification
from workflows.services.verification import audit_verify_scheduled

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(make_user):
    return make_user("shenji", ("auditor", ""))


def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_search_by_person_staff_procedure_period_and_kind(petition, auditor):
    web = client(auditor)
    pk = petition.instance_id
    hits = {
        "person=赵大勇": True,
        "person=11010519491231002x": True,
        "person=某某某": False,
        "staff=township_a": True,
        "staff=nobody": False,
        "procedure=petition_first_receiver": True,
        "procedure=certificate_renewal": False,
        "since=2025-03-01&until=2025-03-31": True,
        "since=2026-01-01": False,
        "kind=task_completed": True,
        "kind=instance_terminated": False,
        "person=赵大勇&staff=township_a&kind=task_completed&since=2025-03-03": True,
    }
    for query, expected in hits.items():
        page = web.get(f"/audit/?{query}").content.decode()
        assert (f'href="/audit/cases/{pk}/"' in page) is expected, query


def test_a_bad_date_is_named_not_ignored(auditor):
    page = client(auditor).get("/audit/?since=2025-13-45&until=x").content.decode()
    assert "2025-13-45" in page and "audit-results" not in page


def test_an_auditor_of_one_township_finds_and_replays_only_its_cases(petition, make_user):
    other = make_user("shenji_b", ("auditor", TOWNSHIP_B))
    web = client(other)
    assert (
        f"/audit/cases/{petition.instance_id}/"
        not in web.get("/audit/?person=赵大勇").content.decode()
    )
    for suffix in ("", "history.json", "history.pdf"):
        assert web.get(f"/audit/cases/{petition.instance_id}/{suffix}").status_code == 404


def test_the_replay_page_shows_verification_and_the_steps(petition, auditor):
    page = client(auditor).get(f"/audit/cases/{petition.instance_id}/").content.decode()
    assert 'id="chain-status"' in page and "✔" in page
    assert 'id="replay-status"' in page
    document = json.loads(
        page.split('id="fz-replay-document" type="application/json">')[1].split("</script>")[0]
    )
    assert [s["what"] for s in document["steps"] if s["source"] == "record"] == [
        "登记信访件",
        "作出受理决定",
    ]


def test_a_tampered_event_is_named_on_the_replay_page(petition, auditor):
    event = AuditEvent.objects.get(instance=petition.instance, kind="task_completed")
    raw_update(
        "UPDATE workflows_auditevent SET payload = %s WHERE id = %s",
        [json.dumps({**event.payload, "data": {"decision": "rejected"}}), event.pk],
    )
    page = client(auditor).get(f"/audit/cases/{petition.instance_id}/").content.decode()
    assert "✘" in page and f"instance:{petition.instance_id} #{event.sequence}" in page
    assert "its content was altered" in page


def test_pdf_and_json_exports(petition, auditor):
    web = client(auditor)
    pdf = web.get(f"/audit/cases/{petition.instance_id}/history.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) > 2000
    exported = web.get(f"/audit/cases/{petition.instance_id}/history.json").json()
    streams = [c["stream"] for c in exported["chains"]]
    assert streams == [f"instance:{petition.instance_id}", f"petition:{petition.pk}"]
    assert all(e["hash"] for c in exported["chains"] for e in c["events"])


def test_the_search_page_shows_the_last_scheduled_report(petition, auditor):
    audit_verify_scheduled()
    assert AuditVerification.objects.count() == 1
    page = client(auditor).get("/audit/").content.decode()
    assert 'id="scheduled-verification"' in page and 'class="ok"' in page


def test_a_state_altered_behind_the_engine_is_found_even_after_a_visit(petition, auditor):
    """The replay is kept between visits, but never past a change of what it is built from."""
    from workflows.models import ProcessInstance

    web = client(auditor)
    url = f"/audit/cases/{petition.instance_id}/"
    assert "✔ 按记录的输入重新执行本案" in web.get(url).content.decode()
    state = json.loads(petition.instance.serialized_state)
    task = next(iter(state["tasks"].values()))
    task["data"]["decision"] = "not_in_remit"
    ProcessInstance.objects.filter(pk=petition.instance_id).update(
        serialized_state=json.dumps(state)
    )
    page = web.get(url).content.decode()
    assert 'id="replay-status" role="alert">✘' in page and "数据与存储的案件不同" in page
