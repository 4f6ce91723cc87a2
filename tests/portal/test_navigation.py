"""Each role its own menu: what it uses and nothing it cannot use; auditors land on their area."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from tests.conftest import COUNTY, TOWNSHIP_A, VILLAGE_A1
from tests.portal.conftest import PACK
from tests.registry.factories import ASSESSMENT, FINANCE_BUREAU, PROVIDER_X

pytestmark = pytest.mark.django_db

CASEWORK = {"nav-inbox", "nav-cases"}
MENUS = {
    "process_owner": (
        "",
        CASEWORK
        | {"nav-petitions", "nav-medication-cycles", "nav-device-applications"}
        | {"nav-procedures", "nav-audit", "nav-ops"},
    ),
    "county_staff": (
        COUNTY,
        CASEWORK
        | {"nav-start", "nav-petitions", "nav-medication-cycles", "nav-device-applications"},
    ),
    "township_staff": (
        TOWNSHIP_A,
        CASEWORK
        | {"nav-start", "nav-petitions", "nav-medication-cycles", "nav-device-applications"},
    ),
    "village_officer": (
        VILLAGE_A1,
        CASEWORK | {"nav-start", "nav-petitions", "nav-device-applications"},
    ),
    "finance": (FINANCE_BUREAU, CASEWORK | {"nav-medication-cycles"}),
    "assessor": (ASSESSMENT, CASEWORK | {"nav-device-applications"}),
    "provider": (PROVIDER_X, CASEWORK | {"nav-device-applications"}),
    "petition_office": (COUNTY, CASEWORK | {"nav-start", "nav-petitions"}),
    "auditor": ("", {"nav-procedures", "nav-audit"}),
}


@pytest.fixture
def pack(settings):
    settings.WORKFLOWS = {
        **settings.WORKFLOWS,
        "PROCESS_DIRS": [PACK / "bpmn"],
        "FORM_DIRS": [PACK / "forms"],
        "DMN_DIRS": [PACK / "dmn"],
    }
    call_command("deploy_processes", verbosity=0)


def _menu(client: Client) -> set[str]:
    import re

    page = client.get("/", follow=True).content.decode()
    nav = page.split('<nav aria-label="', 1)[1].split("</nav>", 1)[0]
    return set(re.findall(r'id="(nav-[a-z-]+)"', nav))


@pytest.mark.parametrize("role", sorted(MENUS))
def test_each_role_sees_its_own_menu(role, pack, make_user):
    unit, expected = MENUS[role]
    client = Client()
    client.force_login(make_user(f"u_{role}", (role, unit)))
    assert _menu(client) == expected


def test_an_auditor_lands_on_the_audit_area_and_staff_on_their_inbox(pack, make_user):
    auditor = Client()
    auditor.force_login(make_user("shenji", ("auditor", "")))
    response = auditor.get("/")
    assert response.status_code == 302 and response.url == "/audit/"
    clerk = Client()
    clerk.force_login(make_user("clerk", ("township_staff", TOWNSHIP_A)))
    page = clerk.get("/")
    assert page.status_code == 200 and "待办" in page.content.decode()


def test_the_unclaim_button_is_not_called_send_back(start_case, township_a):
    from workflows.models import HumanTask
    from workflows.services.tasks import task_claim

    instance = start_case(township_a)
    task = HumanTask.objects.get(instance=instance, state="open")
    task_claim(task_id=task.pk, user=township_a)
    client = Client()
    client.force_login(township_a)
    body = client.get("/?tab=mine").content.decode()
    assert f'action="/tasks/{task.pk}/unclaim/"' in body
    assert "取消认领" in body and ">退回<" not in body


def test_the_township_filter_is_offered_only_where_there_are_townships_to_choose(pack, make_user):
    county = Client()
    county.force_login(make_user("county_clerk", ("county_staff", COUNTY)))
    assert 'name="township"' in county.get("/").content.decode()
    for role, unit in (("township_staff", TOWNSHIP_A), ("finance", FINANCE_BUREAU)):
        web = Client()
        web.force_login(make_user(f"only_{role}", (role, unit)))
        assert 'name="township"' not in web.get("/").content.decode(), role
