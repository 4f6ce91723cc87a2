"""The registry's scope resolver: memberships are guardian permissions on org units."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from guardian.shortcuts import remove_perm

from registry.models import Membership, OrgUnitUserObjectPermission, RegistryEvent
from registry.scopes import RegistryScopeResolver
from registry.services.memberships import membership_revoke, role_permission
from tests.registry.factories import (
    COUNTY,
    PROVIDER_X,
    TOWNSHIP_A,
    TOWNSHIP_B,
    VILLAGE_A1,
)
from workflows.scopes import Grant, resolver
from workflows.services.roles import role_grant

pytestmark = pytest.mark.django_db


def test_the_project_uses_the_registry_resolver():
    assert isinstance(resolver(), RegistryScopeResolver)


def test_grants_come_from_guardian_permissions_in_one_query(make_user, django_assert_num_queries):
    user = make_user("li", ("township_staff", TOWNSHIP_A), ("petition_office", ""))
    assert OrgUnitUserObjectPermission.objects.filter(user=user).count() == 1
    with django_assert_num_queries(1):
        grants = resolver().grants(user)
    assert grants == [
        Grant("petition_office", "", ""),
        Grant("township_staff", TOWNSHIP_A, "330102.101."),
    ]


def test_a_unit_path_starts_with_the_path_of_every_unit_above(units):
    scopes = resolver()
    assert scopes.scope_path(COUNTY) == "330102."
    assert scopes.scope_path(TOWNSHIP_A) == "330102.101."
    assert scopes.scope_path(VILLAGE_A1) == "330102.101.201."
    assert scopes.scope_path(PROVIDER_X) == f"330102.{PROVIDER_X}."
    assert scopes.scope_path("") == ""
    assert units[VILLAGE_A1].path.startswith(units[TOWNSHIP_A].path)


def test_a_superuser_holds_every_role_everywhere(make_user):
    root = make_user("root", superuser=True)
    assert {g.role for g in resolver().grants(root)} == set(resolver().roles())
    assert all(g.path == "" for g in resolver().grants(root))


def test_removing_the_guardian_permission_removes_the_access(make_user, units):
    user = make_user("li", ("township_staff", TOWNSHIP_A))
    remove_perm(role_permission("township_staff"), user, units[TOWNSHIP_A])
    assert resolver().grants(user) == []


def test_a_unit_taken_out_of_use_grants_nothing(make_user, units):
    user = make_user("li", ("township_staff", TOWNSHIP_A))
    units[TOWNSHIP_A].is_active = False
    units[TOWNSHIP_A].save()
    assert resolver().grants(user) == []


def test_granting_twice_is_a_no_op_and_revoking_removes_permission_and_membership(make_user):
    user = make_user("li")
    assert resolver().grant(user=user, role="township_staff", scope=TOWNSHIP_A) is True
    assert resolver().grant(user=user, role="township_staff", scope=TOWNSHIP_A) is False
    membership_revoke(membership=Membership.objects.get(user=user))
    assert resolver().grants(user) == []
    assert list(RegistryEvent.objects.values_list("kind", flat=True)) == [
        "membership_granted",
        "membership_revoked",
    ]


def test_granting_in_an_unknown_unit_is_refused_with_a_clear_message(make_user, chinese):
    user = make_user("li")
    with pytest.raises(ValueError) as caught:
        role_grant(user=user, role="township_staff", org_unit="330102999000")
    assert str(caught.value) == (
        "没有代码为330102999000的县、乡镇、村（社区）或机构，请查看人员库的单位列表。"
    )
    assert not Membership.objects.exists()


def test_grant_role_command_names_the_unknown_unit(make_user, chinese):
    make_user("li")
    with pytest.raises(CommandError, match="^没有代码为330102999000的县、乡镇、村（社区）或机构"):
        call_command("grant_role", "li", "township_staff", "--org-unit", "330102999000")
    call_command("grant_role", "li", "township_staff", "--org-unit", TOWNSHIP_B)
    li = get_user_model().objects.get(username="li")
    assert resolver().grants(li) == [Grant("township_staff", TOWNSHIP_B, "330102.102.")]


def test_a_role_is_held_only_in_the_kind_of_unit_it_belongs_to(make_user, chinese):
    user = make_user("li")
    with pytest.raises(ValueError) as caught:
        resolver().grant(user=user, role="provider", scope=TOWNSHIP_A)
    assert str(caught.value) == (
        "“服务机构”岗位不能设在城关镇（镇），只能设在：服务机构（辅具/康复）、定点医院。"
    )


def test_home_scope_is_the_most_specific_working_unit(make_user):
    user = make_user("li", ("county_staff", COUNTY), ("village_officer", VILLAGE_A1))
    assert resolver().home_scope(user) == VILLAGE_A1
    assert resolver().home_scope(make_user("aud", ("auditor", ""))) == ""


def test_users_with_role_are_those_whose_grant_reaches_the_place(make_user):
    a = make_user("a", ("township_staff", TOWNSHIP_A))
    make_user("b", ("township_staff", TOWNSHIP_B))
    everywhere = make_user("c", ("township_staff", ""))
    found = resolver().users_with_role(role="township_staff", scope_path="330102.101.201.")
    assert found == [a, everywhere]
