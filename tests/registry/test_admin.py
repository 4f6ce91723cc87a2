"""The admin screens maintain org units and memberships through the services."""

import pytest
from django.test import Client

from registry.models import Membership, OrgUnit, RegistryEvent
from tests.registry.factories import COUNTY, TOWNSHIP_A
from workflows.scopes import Grant, resolver

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_for(make_user):
    root = make_user("root", superuser=True)
    client = Client()
    client.force_login(root)
    return client


def test_the_org_unit_and_membership_screens_open(admin_client_for, units):
    for url in (
        "/admin/registry/orgunit/",
        "/admin/registry/orgunit/add/",
        f"/admin/registry/orgunit/{units[COUNTY].pk}/change/",
        "/admin/registry/membership/",
        "/admin/registry/membership/add/",
        "/admin/registry/person/",
        "/admin/registry/certificate/",
    ):
        assert admin_client_for.get(url).status_code == 200, url


def test_adding_a_village_derives_its_parent_and_path(admin_client_for, units):
    response = admin_client_for.post(
        "/admin/registry/orgunit/add/",
        {"code": "330102101203", "name": "新村", "kind": "village", "is_active": "on"},
    )
    assert response.status_code == 302
    village = OrgUnit.objects.get(code="330102101203")
    assert (village.parent.code, village.path) == (TOWNSHIP_A, "330102.101.203.")
    assert RegistryEvent.objects.filter(kind="org_unit_created").count() == 1


def test_a_bad_code_is_shown_on_the_form(admin_client_for, units):
    response = admin_client_for.post(
        "/admin/registry/orgunit/add/",
        {"code": "330102109201", "name": "孤村", "kind": "village", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "330102109201的上级单位（330102109000）不在人员库中，请先创建上级单位。" in (
        response.content.decode()
    )
    assert not OrgUnit.objects.filter(code="330102109201").exists()


def test_a_membership_added_in_the_admin_is_a_guardian_permission(
    admin_client_for, make_user, units
):
    clerk = make_user("clerk")
    response = admin_client_for.post(
        "/admin/registry/membership/add/",
        {"user": clerk.pk, "role": "township_staff", "org_unit": units[TOWNSHIP_A].pk},
    )
    assert response.status_code == 302
    assert resolver().grants(clerk) == [Grant("township_staff", TOWNSHIP_A, "330102.101.")]
    membership = Membership.objects.get(user=clerk)
    admin_client_for.post(f"/admin/registry/membership/{membership.pk}/delete/", {"post": "yes"})
    assert resolver().grants(clerk) == []
