"""The portal's fixtures: the real process pack's demo procedure, cases, signed-in clients."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from django.test import Client

from registry.identity import citizen_id_make
from workflows.services.definitions import definition_deploy
from workflows.services.instances import instance_start

ROOT = Path(__file__).resolve().parent.parent.parent
PACK = ROOT / "processes"
FIXTURE_FORMS = ROOT / "tests" / "fixtures" / "forms"
KEY = "certificate_renewal"

VALID_CHECK = {
    "household_verified": True,
    "contact_phone": "13805710001",
    "household_size": 3,
    "township_decision": "approve",
    "township_opinion": "属实，同意换领。",
}


@pytest.fixture(autouse=True)
def _pack_forms(settings, _workflow_settings):
    """The process pack's forms, as in production (plus the fixture forms other tests use)."""
    settings.WORKFLOWS = {**settings.WORKFLOWS, "FORM_DIRS": [PACK / "forms", FIXTURE_FORMS]}


@pytest.fixture
def renewal(db, owner):
    """The demo procedure, deployed from the process pack."""
    content = (PACK / "bpmn" / f"{KEY}.bpmn").read_bytes()
    return definition_deploy(content=content, user=owner).definition


def applicant(index: int = 1, name: str = "王秀英") -> dict:
    """A renewal's start data, with a valid ID (the start checks it) distinct per index."""
    citizen_id = citizen_id_make(
        area_code="330102", birth_date=date(1950, 3, 1) + timedelta(days=index), sequence=index
    )
    return {
        "applicant_name": name,
        "applicant_id": citizen_id,
        "certificate_no": citizen_id + "41",
        "renewal_reason": "expired",
    }


@pytest.fixture
def start_case(renewal):
    def start(user, *, index: int = 1, name: str = "王秀英", org_unit: str | None = None):
        return instance_start(
            process_key=KEY,
            user=user,
            business_key=f"HZ-{index:03d}",
            org_unit=org_unit,
            variables=applicant(index, name),
        )

    return start


@pytest.fixture
def client_for(db):
    def make(user, language: str | None = None) -> Client:
        client = Client()
        client.force_login(user)
        if language:
            client.cookies["django_language"] = language
        return client

    return make
