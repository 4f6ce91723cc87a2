"""Org units: the county, its townships/streets and villages/communities, and institutions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from ..roles import ROLE_PERMISSIONS


class OrgUnitKind(models.TextChoices):
    COUNTY = "county", _("县（区）")
    STREET = "street", _("街道")
    TOWN = "town", _("镇")
    TOWNSHIP = "township", _("乡")
    COMMUNITY = "community", _("社区")
    VILLAGE = "village", _("村")
    FINANCE_BUREAU = "finance_bureau", _("财政局")
    ASSESSMENT = "assessment", _("评估机构")
    SERVICE = "service", _("服务机构（辅具/康复）")
    HOSPITAL = "hospital", _("定点医院")


class OrgUnitLevel(models.TextChoices):
    COUNTY = "county", _("县级")
    TOWNSHIP = "township", _("乡镇级")
    VILLAGE = "village", _("村社区级")
    INSTITUTION = "institution", _("机构")


KIND_LEVEL = {
    OrgUnitKind.COUNTY: OrgUnitLevel.COUNTY,
    OrgUnitKind.STREET: OrgUnitLevel.TOWNSHIP,
    OrgUnitKind.TOWN: OrgUnitLevel.TOWNSHIP,
    OrgUnitKind.TOWNSHIP: OrgUnitLevel.TOWNSHIP,
    OrgUnitKind.COMMUNITY: OrgUnitLevel.VILLAGE,
    OrgUnitKind.VILLAGE: OrgUnitLevel.VILLAGE,
    OrgUnitKind.FINANCE_BUREAU: OrgUnitLevel.INSTITUTION,
    OrgUnitKind.ASSESSMENT: OrgUnitLevel.INSTITUTION,
    OrgUnitKind.SERVICE: OrgUnitLevel.INSTITUTION,
    OrgUnitKind.HOSPITAL: OrgUnitLevel.INSTITUTION,
}


class OrgUnit(models.Model):
    """A place or institution staff act for (组织机构).

    Area units are keyed by the 12-digit statistical area code (county 6 + township 3 +
    village 3); institutions by their own code (e.g. the unified social credit code) and sit
    under their county. ``path`` is the unit's scope path: it starts with the path of every unit
    above it, so "reaches" is a prefix test. Codes and paths never change once created.
    """

    code = models.CharField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=OrgUnitKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("范围路径"), max_length=160, db_index=True, editable=False)
    is_active = models.BooleanField(_("在用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("组织机构")
        verbose_name_plural = _("组织机构")
        ordering = ["path"]
        permissions = ROLE_PERMISSIONS

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def level(self) -> str:
        return KIND_LEVEL[OrgUnitKind(self.kind)]


class OrgUnitUserObjectPermission(UserObjectPermissionBase):
    """django-guardian's per-user permissions on org units, by direct foreign key (fast joins)."""

    content_object = models.ForeignKey(OrgUnit, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = _("组织机构对象权限（用户）")
        verbose_name_plural = _("组织机构对象权限（用户）")


class OrgUnitGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(OrgUnit, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = _("组织机构对象权限（组）")
        verbose_name_plural = _("组织机构对象权限（组）")


class Membership(models.Model):
    """A staff member holds a role in an org unit and below (``org_unit`` empty: everywhere).

    The business record of a grant; the access itself is the django-guardian permission
    ``registry.role_<role>`` on the org unit (a global permission for "everywhere"), which
    ``registry.services.memberships`` writes in the same transaction.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    role = models.CharField(_("角色"), max_length=64)
    org_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("组织机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("授权人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    granted_at = models.DateTimeField(_("授权时间"), default=timezone.now)

    class Meta:
        verbose_name = _("岗位授权")
        verbose_name_plural = _("岗位授权")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "org_unit"],
                condition=models.Q(org_unit__isnull=False),
                name="membership_unique_in_unit",
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(org_unit__isnull=True),
                name="membership_unique_everywhere",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role} @ {self.org_unit.code if self.org_unit else '*'}"
