"""Who may open the audit area: every role against every audit page, through the portal and the
API. The area is the auditors' and the process owners' (who replay cases to run operations);
everyone else gets a 403 page, even for a case they may read on its own page."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.conftest import COUNTY, TOWNSHIP_A
from tests.registry.factories import ASSESSMENT, FINANCE_BUREAU, PROVIDER_X

pytestmark = pytest.mark.django_db

# role → the unit its holder works in (the petition below is in TOWNSHIP_A)
ROLES = {
    "process_owner": "",
    "county_staff": COUNTY,
    "township_staff": TOWNSHIP_A,
    "village_officer": TOWNSHIP_A[:9] + "201",
    "finance": FINANCE_BUREAU,
    "assessor": ASSESSMENT,
    "provider": PROVIDER_X,
    "petition_office": COUNTY,
    "auditor": "",
}
AUDIT_AREA = {"auditor", "process_owner"}
PORTAL_PAGES = [
    "/audit/",
    "/audit/?person=赵大勇",
    "{case}",
    "{case}history.json",
    "{case}history.pdf",
]


@pytest.mark.parametrize("role", sorted(ROLES))
def test_the_audit_area_answers_by_role(role, petition, make_user):
    user = make_user(f"u_{role}", (role, ROLES[role]))
    web = Client()
    web.force_login(user)
    case = f"/audit/cases/{petition.instance_id}/"
    expected = 200 if role in AUDIT_AREA else 403
    for page in PORTAL_PAGES:
        response = web.get(page.format(case=case))
        assert response.status_code == expected, (role, page)
        if expected == 403:
            body = response.content.decode()
            assert "无法访问" in body and "审计" in body
            assert "赵大勇" not in body

    api = APIClient()
    api.force_authenticate(user)
    export = api.get(f"/api/process-instances/{petition.instance_id}/history/export/")
    assert export.status_code == expected, role


def test_the_case_page_links_the_replay_only_for_the_audit_area(petition, township_a, make_user):
    auditor = make_user("shenji_all", ("auditor", ""))
    # township_a received the petition: they read its page, but not its replay.
    for user, linked in ((township_a, False), (auditor, True)):
        web = Client()
        web.force_login(user)
        page = web.get(f"/cases/{petition.instance_id}/")
        assert page.status_code == 200
        body = page.content.decode()
        assert ('id="replay-link"' in body) is linked
        assert (">审计</a>" in body) is linked
