"""Shared fixtures: users with roles, deployed fixture diagrams, API clients."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from workflows import extensions
from workflows.services.definitions import definition_deploy
from workflows.services.roles import role_grant
from workflows.services.runtimes import _runtime

FIXTURES = Path(__file__).parent / "fixtures"
BPMN = FIXTURES / "bpmn"

COUNTY = "330102000000"
TOWNSHIP_A = "330102101000"
TOWNSHIP_B = "330102102000"
VILLAGE_A1 = "330102101201"


@pytest.hookimpl(trylast=True)  # after -m has deselected what it will
def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests skip on SQLite on a laptop, but never in CI."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    needing_postgres = [item for item in items if "postgres" in item.keywords]
    if needing_postgres and os.environ.get("CI") == "true":
        raise pytest.UsageError("CI must run PostgreSQL tests on PostgreSQL: set DATABASE_URL")
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgresql://...)")
    for item in needing_postgres:
        item.add_marker(skip)


@pytest.fixture(autouse=True)
def _workflow_settings(settings):
    settings.WORKFLOWS = {
        **settings.WORKFLOWS,
        "FORM_DIRS": [FIXTURES / "forms"],
        "PROCESS_DIRS": [],
    }
    _runtime.cache_clear()
    yield
    _runtime.cache_clear()


@pytest.fixture
def in_english():
    """For tests that read the English messages (Chinese is the default: the catalogue check
    and the Chinese-reading tests cover the zh-Hans texts)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def test_handler():
    """A registered service handler that records its calls."""
    calls = []

    @extensions.service_handler("test_lookup", label="测试查询")
    def lookup(variables):
        calls.append(dict(variables))
        return {"found": True, "looked_up": variables.get("person", "")}

    yield calls
    extensions.unregister_handler("test_lookup")


@pytest.fixture
def org_units(db):
    """The registry's county tree: grants name org units, and the registry knows only these."""
    from tests.registry.factories import county_tree

    return county_tree()


@pytest.fixture
def make_user(db, org_units):
    def make(username: str, *grants: tuple[str, str], superuser: bool = False):
        user = get_user_model().objects.create_user(username, password="pw-" + username)
        if superuser:
            user.is_superuser = user.is_staff = True
            user.save()
        for role, org_unit in grants:
            role_grant(user=user, role=role, org_unit=org_unit)
        return user

    return make


@pytest.fixture
def owner(make_user):
    return make_user("owner", ("process_owner", ""))


@pytest.fixture
def county_clerk(make_user):
    return make_user("county_clerk", ("county_staff", COUNTY))


@pytest.fixture
def township_a(make_user):
    return make_user("township_a", ("township_staff", TOWNSHIP_A))


@pytest.fixture
def township_b(make_user):
    return make_user("township_b", ("township_staff", TOWNSHIP_B))


@pytest.fixture
def finance_clerk(make_user):
    return make_user("finance_clerk", ("finance", COUNTY))


@pytest.fixture
def deploy(db, owner):
    def deploy_fixture(name: str):
        return definition_deploy(
            content=(BPMN / f"{name}.bpmn").read_bytes(), user=owner
        ).definition

    return deploy_fixture


@pytest.fixture
def api(db):
    def client_for(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return client_for


@pytest.fixture
def every_case_replays(db):
    """After the test: every case it made re-executes as recorded, at every event."""
    yield
    from tests.replay_check import assert_every_case_replays

    assert_every_case_replays()


@pytest.fixture
def a_new_process_each_step(monkeypatch):
    """Each use of a diagram parses it afresh, as in production, where the web workers, the job
    runner and a restarted server each parse it themselves: nothing one step leaves on a parsed
    diagram may change what the next step does (the replay runs on a single parse)."""
    from workflows.services import runtimes

    cached = runtimes._runtime

    def fresh(definition_id, sha256):
        cached.cache_clear()
        return cached(definition_id, sha256)

    monkeypatch.setattr(runtimes, "_runtime", fresh)
