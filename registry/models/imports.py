"""Uploads of persons and certificates from Excel/CSV: checked first, committed on request."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImportState(models.TextChoices):
    UPLOADED = "uploaded", _("已上传")
    CHECKING = "checking", _("检查中")
    CHECKED = "checked", _("待导入")
    REFUSED = "refused", _("文件不可用")
    COMMITTING = "committing", _("导入中")
    COMMITTED = "committed", _("已导入")
    FAILED = "failed", _("失败")


class ImportFormat(models.TextChoices):
    XLSX = "xlsx", "Excel (.xlsx)"
    CSV = "csv", "CSV"


class ImportBatch(models.Model):
    """One uploaded file: its per-row report and progress counters (导入批次)."""

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)
    file_name = models.CharField(_("文件名"), max_length=255)
    stored_file = models.CharField(max_length=500, blank=True)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField(default=0)
    file_format = models.CharField(_("格式"), max_length=8, choices=ImportFormat.choices)
    encoding = models.CharField(_("编码"), max_length=20, blank=True)
    state = models.CharField(
        _("状态"), max_length=12, choices=ImportState.choices, default=ImportState.UPLOADED
    )
    message = models.TextField(_("说明"), blank=True)
    # progress: bytes or rows processed out of an estimate, as the reader can tell
    progress_done = models.PositiveBigIntegerField(default=0)
    progress_total = models.PositiveBigIntegerField(default=0)
    rows_read = models.PositiveIntegerField(_("读取行数"), default=0)
    rows_valid = models.PositiveIntegerField(_("有效行数"), default=0)
    rows_invalid = models.PositiveIntegerField(_("问题行数"), default=0)
    rows_created = models.PositiveIntegerField(_("新增"), default=0)
    rows_updated = models.PositiveIntegerField(_("更新"), default=0)
    rows_unchanged = models.PositiveIntegerField(_("无变化"), default=0)
    checked_at = models.DateTimeField(null=True, blank=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    committed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.file_name}"

    @property
    def percent(self) -> int:
        if self.state in (ImportState.CHECKED, ImportState.COMMITTED):
            return 100
        if not self.progress_total:
            return 0
        return min(99, int(100 * self.progress_done / self.progress_total))


class ImportRowOutcome(models.TextChoices):
    PENDING = "pending", _("待导入")
    INVALID = "invalid", _("有问题")
    CREATED = "created", _("新增")
    UPDATED = "updated", _("更新")
    UNCHANGED = "unchanged", _("无变化")


class ImportRow(models.Model):
    """One data row of an upload: its cleaned values, or what is wrong with it."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField(_("行号"))
    citizen_id = models.CharField(max_length=32, blank=True)
    data = models.JSONField(default=dict)
    problems = models.JSONField(default=list)  # [{"column": ..., "message": ...}]
    outcome = models.CharField(
        max_length=10, choices=ImportRowOutcome.choices, default=ImportRowOutcome.PENDING
    )

    class Meta:
        verbose_name = _("导入行")
        verbose_name_plural = _("导入行")
        ordering = ["batch", "row_number"]
        indexes = [
            models.Index(fields=["batch", "outcome", "row_number"]),
            models.Index(fields=["batch", "citizen_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.row_number}"
