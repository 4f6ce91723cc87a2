"""The printed case history (the auditors' PDF export) masks personal numbers like every page."""

import pytest
from django.conf import settings as django_settings
from django.test import Client

from registry.masking import CITIZEN_ID, mask
from tests.conftest import TOWNSHIP_A
from workflows.services.definitions import definition_deploy
from workflows.services.instances import instance_start

pytestmark = pytest.mark.django_db
PACK = django_settings.BASE_DIR / "processes"
CITIZEN = "330102195003150029"


def test_the_history_pdf_prints_the_applicants_id_masked(
    petition_pack, owner, township_a, make_user, monkeypatch
):
    from portal import history_pdf

    definition_deploy(content=(PACK / "bpmn" / "certificate_renewal.bpmn").read_bytes(), user=owner)
    instance = instance_start(
        process_key="certificate_renewal",
        user=township_a,
        business_key="HZ-1",
        org_unit=TOWNSHIP_A,
        variables={
            "applicant_name": "王秀英",
            "applicant_id": CITIZEN,
            "certificate_no": CITIZEN + "42",
            "renewal_reason": "expired",
        },
    )
    printed: list[str] = []
    lines = history_pdf._lines

    def capture(rows, *args, **kwargs):
        printed.extend(str(r) for r in rows)
        return lines(rows, *args, **kwargs)

    monkeypatch.setattr(history_pdf, "_lines", capture)
    web = Client()
    web.force_login(make_user("shenji", ("auditor", "")))
    pdf = web.get(f"/audit/cases/{instance.pk}/history.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = "\n".join(printed)
    assert CITIZEN not in text and mask(CITIZEN, CITIZEN_ID) in text
