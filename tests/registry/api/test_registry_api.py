"""The registry API: masked by default, full numbers only through the recorded reveal; the
import preview, its per-row report, commit, and the export in the same layout."""

import csv
import io

import pytest
from openpyxl import load_workbook
from rest_framework.test import APIClient

from registry.models import Person, RegistryEvent
from tests.registry.factories import VILLAGE_A1
from tests.registry.files import people, row, xlsx_bytes

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_lists_and_details_are_masked(township_a_staff, person_a):
    client = api(township_a_staff)
    listed = client.get("/api/registry/persons/").json()["results"][0]
    assert listed["citizen_id"] == person_a.masked_citizen_id
    assert listed["certificate"]["number"] == person_a.masked_citizen_id + "62"
    detail = client.get(f"/api/registry/persons/{person_a.pk}/").json()
    assert person_a.citizen_id not in str(detail)
    assert not RegistryEvent.objects.filter(kind="person_revealed").exists()


def test_reveal_shows_the_full_id_and_is_recorded(township_a_staff, person_a):
    body = api(township_a_staff).post(f"/api/registry/persons/{person_a.pk}/reveal/").json()
    certificates = [{"id": c.pk, "number": c.number} for c in person_a.certificates.all()]
    assert body == {
        "citizen_id": person_a.citizen_id,
        "card_number": "",
        "phone": person_a.phone,
        "certificates": certificates,
    }
    assert RegistryEvent.objects.get(kind="person_revealed").actor == "township_a_zhang"


def test_search_by_name_or_id_digits(county_staff, person_a, person_b):
    client = api(county_staff)

    def names(query):
        return [p["name"] for p in client.get("/api/registry/persons/", query).json()["results"]]

    assert names({"search": "小明"}) == ["王小明"]
    assert names({"search": person_b.citizen_id[-4:]}) == ["李芳"]
    assert names({"org_unit": VILLAGE_A1}) == ["王小明"]
    assert names({"org_unit": "330102999999"}) == []
    assert names({"category": 4}) == ["李芳"]


def test_registering_through_the_api_refuses_a_bad_id_with_the_field(county_staff, units):
    response = api(county_staff).post(
        "/api/registry/persons/",
        {"citizen_id": "110105194912310021", "name": "赵一", "household_unit": VILLAGE_A1},
        format="json",
    )
    assert response.status_code == 400
    message = "身份证号 110105194912310021 的校验位不正确：末位应为 X。"  # the API speaks Chinese
    assert response.json() == {
        "detail": message,
        "errors": [{"field": "citizen_id", "message": message}],
    }
    assert not Person.objects.exists()


def test_import_preview_report_and_commit(county_staff):
    client = api(county_staff)
    rows = [*people(3), row(name="坏", citizen_id="110105194912310021")]
    content = xlsx_bytes(rows)
    response = client.post(
        "/api/registry/imports/",
        {"file": io.BytesIO(content)},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    batch = response.json()
    assert (batch["state"], batch["rows_valid"], batch["rows_invalid"]) == ("checked", 3, 1)
    report = client.get(f"/api/registry/imports/{batch['id']}/rows/?problems=1").json()
    assert [(r["row_number"], r["problems"][0]["column"]) for r in report["results"]] == [
        (5, "公民身份号码")
    ]
    committed = client.post(f"/api/registry/imports/{batch['id']}/commit/")
    assert committed.status_code == 202
    assert committed.json()["state"] == "committed" and Person.objects.count() == 3
    assert client.post(f"/api/registry/imports/{batch['id']}/commit/").status_code == 409


def test_a_refused_upload_is_a_400_with_the_reason(county_staff):
    response = api(county_staff).post(
        "/api/registry/imports/", {"file": io.BytesIO(b"%PDF\x00x")}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("'file' is neither an Excel workbook")


def test_someone_elses_import_is_not_found(county_staff, make_user):
    client = api(county_staff)
    batch = client.post(
        "/api/registry/imports/", {"file": io.BytesIO(xlsx_bytes(people(1)))}, format="multipart"
    ).json()
    other = make_user("county_other", ("county_staff", "330102000000"))
    assert api(other).get(f"/api/registry/imports/{batch['id']}/").status_code == 404
    assert api(other).post(f"/api/registry/imports/{batch['id']}/commit/").status_code == 404


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_an_export_imports_back_without_changes(county_staff, person_a, person_b, kind):
    client = api(county_staff)
    response = client.get(f"/api/registry/export/?type={kind}")
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    if kind == "csv":
        lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    else:
        lines = [
            list(r) for r in load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True)
        ]
    assert lines[0][:3] == ["姓名", "公民身份号码", "户籍地区划代码"]
    assert {line[1] for line in lines[1:]} == {person_a.citizen_id, person_b.citizen_id}
    batch = client.post(
        "/api/registry/imports/",
        {"file": io.BytesIO(content)},
        format="multipart",
    ).json()
    assert batch["rows_invalid"] == 0, client.get(
        f"/api/registry/imports/{batch['id']}/rows/"
    ).json()
    done = client.post(f"/api/registry/imports/{batch['id']}/commit/").json()
    assert (done["rows_created"], done["rows_updated"], done["rows_unchanged"]) == (0, 0, 2)
    assert RegistryEvent.objects.filter(kind="export_made").count() == 1


def test_the_schema_documents_the_registry_api(county_staff):
    schema = api(county_staff).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert "/api/registry/persons/{id}/reveal/" in schema.json()["paths"]


def test_an_auditors_export_shows_the_numbers_masked(auditor, person_a):
    response = api(auditor).get("/api/registry/export/?type=csv")
    assert response.status_code == 200
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    [line] = lines[1:]
    assert line[1] == person_a.masked_citizen_id and line[3] == "138****0001"
    assert line[9] == person_a.certificates.get().masked_number
    assert RegistryEvent.objects.get(kind="export_made").payload["full_numbers"] is False


def test_a_persons_detail_shows_the_phone_masked_until_the_reveal(township_a_staff, person_a):
    client = api(township_a_staff)
    detail = client.get(f"/api/registry/persons/{person_a.pk}/").json()
    assert detail["phone"] == "138****0001" and detail["citizen_id"] == person_a.masked_citizen_id
    revealed = client.post(f"/api/registry/persons/{person_a.pk}/reveal/").json()
    assert revealed["phone"] == "13800000001"
