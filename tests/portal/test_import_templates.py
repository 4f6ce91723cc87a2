"""Every import offers its template: a real .xlsx whose header row the import itself accepts."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from processes.medication.files import template_layouts
from registry.imports.columns import HEADERS
from tests.conftest import COUNTY, TOWNSHIP_A

pytestmark = pytest.mark.django_db


def _sheets(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    return book.worksheets


@pytest.mark.parametrize("name", sorted(template_layouts()))
def test_each_medication_upload_has_its_template(name, make_user):
    client = Client()
    client.force_login(make_user("clerk", ("township_staff", TOWNSHIP_A)))
    first, guide = _sheets(client.get(f"/medication/templates/{name}.xlsx"))
    headers = [c.value for c in first[1]]
    layout = template_layouts()[name]
    assert headers == layout.headers
    assert layout.positions(headers)  # the upload's own check accepts the template's header row
    required = [c.header for c in layout.columns if c.required]
    assert [row[0] for row in guide.iter_rows(min_row=2, values_only=True) if row[1] == "是"] == (
        required
    )


def test_an_unknown_template_is_refused(make_user):
    client = Client()
    client.force_login(make_user("clerk", ("township_staff", TOWNSHIP_A)))
    assert client.get("/medication/templates/nothing.xlsx").status_code == 404


def test_the_person_import_has_its_template_and_links_it(make_user):
    client = Client()
    client.force_login(make_user("importer", ("county_staff", COUNTY)))
    assert 'id="import-template"' in client.get("/registry/imports/").content.decode()
    first, _guide = _sheets(client.get("/registry/imports/template.xlsx"))
    assert [c.value for c in first[1]] == HEADERS
    outsider = Client()
    outsider.force_login(make_user("clerk", ("township_staff", TOWNSHIP_A)))
    assert outsider.get("/registry/imports/template.xlsx").status_code == 403
