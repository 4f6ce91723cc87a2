"""The registry's pages for a township clerk: numbers masked in lists, import reports and on a
person's page; the full numbers behind one recorded click, and the auditor sees who looked."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from registry.masking import CERTIFICATE, CITIZEN_ID, PHONE, mask
from registry.models import RegistryEvent

from .files import people, row, xlsx_bytes

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "zh-hans"
    return client


def test_the_person_list_and_page_show_numbers_masked(township_a_staff, person_a):
    client = client_for(township_a_staff)
    certificate = person_a.certificates.get().number
    for url in ("/registry/persons/", f"/registry/persons/{person_a.pk}/"):
        page = client.get(url).content.decode()
        assert person_a.citizen_id not in page and mask(person_a.citizen_id, CITIZEN_ID) in page
    assert certificate not in page and mask(certificate, CERTIFICATE) in page
    assert person_a.phone not in page and mask(person_a.phone, PHONE) in page
    assert not RegistryEvent.objects.filter(kind="person_revealed").exists()


def test_one_click_shows_the_full_numbers_and_is_recorded_for_the_auditor(
    township_a_staff, auditor, person_a
):
    page = client_for(township_a_staff).post(f"/registry/persons/{person_a.pk}/")
    text = page.content.decode()
    assert person_a.citizen_id in text and person_a.phone in text
    assert person_a.certificates.get().number in text
    event = RegistryEvent.objects.get(kind="person_revealed")
    assert (event.actor, event.subject) == ("township_a_zhang", f"person:{person_a.pk}")
    log = client_for(auditor).get("/registry/reveals/")
    assert log.status_code == 200
    [view] = log.context["views"]
    assert (view.viewer, view.person, view.citizen_id, view.card_number) == (
        township_a_staff.get_full_name() or "township_a_zhang",
        person_a,
        True,
        False,
    )
    shown = log.content.decode()
    assert person_a.citizen_id not in shown and person_a.masked_citizen_id in shown


def test_only_auditors_read_who_saw_full_numbers(township_a_staff, county_staff):
    assert client_for(township_a_staff).get("/registry/reveals/").status_code == 403
    assert client_for(county_staff).get("/registry/reveals/").status_code == 403


def test_the_import_report_quotes_bad_ids_masked(county_staff):
    client = client_for(county_staff)
    bad = "110105194912310021"
    upload = xlsx_bytes([*people(1), row(name="坏", citizen_id=bad)])
    response = client.post(
        "/registry/imports/", {"file": SimpleUploadedFile("名册.xlsx", upload)}, follow=True
    )
    page = response.content.decode()
    assert "的校验位不正确" in page
    assert bad not in page and mask(bad, CITIZEN_ID) in page
