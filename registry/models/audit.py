"""The registry's audit chain: who viewed full numbers, changed persons, certificates, access."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RegistryEventKind(models.TextChoices):
    MEMBERSHIP_GRANTED = "membership_granted", _("授予岗位")
    MEMBERSHIP_REVOKED = "membership_revoked", _("撤销岗位")
    ORG_UNIT_CREATED = "org_unit_created", _("新增组织机构")
    ORG_UNIT_CHANGED = "org_unit_changed", _("修改组织机构")
    PERSON_CREATED = "person_created", _("新增人员")
    PERSON_CHANGED = "person_changed", _("修改人员")
    PERSON_REVEALED = "person_revealed", _("查看完整证件号/账号")
    CARD_CHANGED = "card_changed", _("修改发放账户")
    ASSIGNMENT_CREATED = "assignment_created", _("指派机构")
    ASSIGNMENT_ENDED = "assignment_ended", _("结束指派")
    CERTIFICATE_ISSUED = "certificate_issued", _("发证")
    CERTIFICATE_EXPIRING = "certificate_expiring", _("证件即将到期")
    CERTIFICATE_EXPIRED = "certificate_expired", _("证件过期")
    CERTIFICATE_RENEWED = "certificate_renewed", _("证件换领")
    CERTIFICATE_CANCELLED = "certificate_cancelled", _("证件注销")
    CERTIFICATE_REISSUED = "certificate_reissued", _("证件换发")
    IMPORT_COMMITTED = "import_committed", _("批量导入")
    EXPORT_MADE = "export_made", _("导出")


class RegistryEvent(models.Model):
    """One link of the registry's hash chain. Never updated or deleted."""

    sequence = models.PositiveIntegerField(unique=True)
    created_at = models.DateTimeField()
    actor = models.CharField(max_length=150, blank=True)
    kind = models.CharField(max_length=40, choices=RegistryEventKind.choices)
    subject = models.CharField(max_length=64, blank=True)  # "person:12", "certificate:7" …
    payload = models.JSONField(default=dict)
    previous_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("登记审计事件")
        verbose_name_plural = _("登记审计事件")
        ordering = ["sequence"]
        indexes = [models.Index(fields=["subject", "sequence"])]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.kind} {self.subject}"


class RegistryEventHead(models.Model):
    """The chain's last sequence and hash; locked while appending so writers queue."""

    sequence = models.PositiveIntegerField(default=0)
    head = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"registry@{self.sequence}"
