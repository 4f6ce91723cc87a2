"""The modeler's endpoints: each bad input answered with what is wrong, nothing lost."""

import json

import pytest

from tests.conftest import BPMN
from workflows.models import Procedure, ProcessDefinition, ProcessDraft
from workflows.services.definitions import definition_deploy

pytestmark = pytest.mark.django_db


LANES = (BPMN / "lanes_and_gateway.bpmn").read_text()
DRAFT_URL = "/modeler/lanes_and_gateway/draft.json"


@pytest.fixture
def deployed(owner):
    return definition_deploy(content=LANES.encode(), user=owner).definition


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_invalid_xml_is_refused_with_the_line_and_the_draft_kept(client, owner, deployed):
    client.force_login(owner)
    response = post(client, DRAFT_URL, {"bpmn_xml": "<bpmn:definitions>\n<oops", "revision": 1})
    assert response.status_code == 400
    assert "流程图不是有效的 BPMN XML（第 1 行）" in response.json()["error"]
    assert client.get(DRAFT_URL).json()["bpmn_xml"] == LANES


def test_a_stale_save_is_409_and_names_who_saved(client, owner, deployed):
    client.force_login(owner)
    assert post(client, DRAFT_URL, {"bpmn_xml": LANES, "revision": 1}).status_code == 200
    response = post(client, DRAFT_URL, {"bpmn_xml": LANES, "revision": 1})
    assert response.status_code == 409 and "owner 于" in response.json()["error"]


def test_deploy_refused_by_the_server_returns_the_problems_per_element(client, owner, deployed):
    client.force_login(owner)
    bad = LANES.replace('name="县级复核"', 'name="县级复核" camunda:candidateGroups="nobody"')
    assert post(client, DRAFT_URL, {"bpmn_xml": bad, "revision": 1}).status_code == 200
    check = post(client, "/modeler/lanes_and_gateway/check.json", {"bpmn_xml": bad}).json()
    assert not check["ok"] and check["problems"][0]["element"] == "county_review"
    response = post(
        client, "/modeler/lanes_and_gateway/deploy.json", {"revision": 2, "comment": "x"}
    )
    assert response.status_code == 400
    assert response.json()["problems"][0]["element"] == "county_review"
    assert ProcessDefinition.objects.count() == 1


def test_deploying_without_permission_is_403(client, deployed, make_user, township_a):
    other_owner = make_user("other_owner", ("process_owner", ""))
    for user in (township_a, other_owner):
        client.force_login(user)
        response = post(
            client, "/modeler/lanes_and_gateway/deploy.json", {"revision": 1, "comment": "x"}
        )
        assert response.status_code == 403
    assert ProcessDefinition.objects.count() == 1


def test_auditors_and_staff_do_not_get_the_modeler(client, deployed, make_user, township_a):
    auditor = make_user("auditor", ("auditor", ""))
    client.force_login(township_a)
    assert client.get("/modeler/").status_code == 403
    for user in (auditor, township_a):
        client.force_login(user)
        assert client.get("/modeler/lanes_and_gateway/").status_code == 403
        assert post(client, DRAFT_URL, {"bpmn_xml": LANES, "revision": 1}).status_code == 403
    client.force_login(auditor)  # auditors read the list and the versions, and change nothing
    listing = client.get("/modeler/")
    body = listing.content.decode()
    assert listing.status_code == 200
    assert 'href="/modeler/lanes_and_gateway/versions/"' in body
    assert 'id="new-procedure"' not in body and 'href="/modeler/lanes_and_gateway/"' not in body
    created = client.post("/modeler/", {"key": "sneaky", "name": "试"})
    assert created.status_code == 200 and not Procedure.objects.filter(key="sneaky").exists()
    assert client.get("/modeler/lanes_and_gateway/versions/").status_code == 200
    assert not ProcessDraft.objects.exists()


def test_a_new_procedure_from_a_file_that_is_not_bpmn_is_refused(client, owner):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(owner)
    # Binary bytes, XML that is not BPMN, broken XML: each said plainly, no parser dump, none
    # of the file's bytes.
    for content in (b"\xff\xfe not text", b"<a><b/></a>", b"<bpmn:definitions oops"):
        upload = SimpleUploadedFile("x.bpmn", content, content_type="application/xml")
        response = client.post("/modeler/", {"key": "x", "name": "试", "file": upload}, follow=True)
        body = response.content.decode()
        assert "不是有效的 BPMN 流程图（.bpmn）" in body
        assert "line" not in body.split('class="messages"')[1].split("</ul>")[0]
        assert "oops" not in body and "&lt;a&gt;" not in body
    assert not ProcessDraft.objects.exists()
    upload = SimpleUploadedFile("x.bpmn", LANES.encode(), content_type="application/xml")
    response = client.post("/modeler/", {"key": "lanes_and_gateway", "file": upload})
    assert response.status_code == 302  # its process id is the key: a draft to open
    assert ProcessDraft.objects.get().procedure.key == "lanes_and_gateway"
