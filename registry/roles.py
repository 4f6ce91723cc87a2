"""The staff roles (docs/architecture.md). Each is a django-guardian permission on org units."""

from __future__ import annotations

from django.db import models

ROLE_PERMISSION_PREFIX = "role_"


class Role(models.TextChoices):
    PROCESS_OWNER = "process_owner", "流程管理员"
    COUNTY_STAFF = "county_staff", "县残联工作人员"
    TOWNSHIP_STAFF = "township_staff", "乡镇残联工作人员"
    VILLAGE_OFFICER = "village_officer", "村社区专职委员"
    FINANCE = "finance", "县财政局"
    ASSESSOR = "assessor", "评估机构"
    PROVIDER = "provider", "服务机构"
    PETITION_OFFICE = "petition_office", "信访办"
    AUDITOR = "auditor", "审计"


def role_permission_codename(role: str) -> str:
    return ROLE_PERMISSION_PREFIX + role


# Meta.permissions of OrgUnit: "acts as <role> in this unit and every unit below".
ROLE_PERMISSIONS = [
    (role_permission_codename(role.value), f"以{role.label}身份办理本机构及下级事务")
    for role in Role
]
