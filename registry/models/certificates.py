"""Disability certificates (残疾人证), second generation, with their lifecycle."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from ..identity import CATEGORY_NAMES
from ..masking import CERTIFICATE, mask
from .persons import Person


class DisabilityCategory(models.IntegerChoices):
    VISION = 1, _("视力")
    HEARING = 2, _("听力")
    SPEECH = 3, _("言语")
    PHYSICAL = 4, _("肢体")
    INTELLECTUAL = 5, _("智力")
    PSYCHIATRIC = 6, _("精神")
    MULTIPLE = 7, _("多重")


class DisabilityGrade(models.IntegerChoices):
    ONE = 1, _("一级")
    TWO = 2, _("二级")
    THREE = 3, _("三级")
    FOUR = 4, _("四级")


class CertificateStatus(models.TextChoices):
    VALID = "valid", _("有效")
    EXPIRING = "expiring", _("即将到期")
    EXPIRED = "expired", _("已过期")
    CANCELLED = "cancelled", _("已注销")
    REISSUED = "reissued", _("已换发")


LIVE_STATUSES = [CertificateStatus.VALID, CertificateStatus.EXPIRING, CertificateStatus.EXPIRED]
_HELD = LIVE_STATUSES


class Certificate(FSMModelMixin, models.Model):
    """One disability certificate. Its number is the holder's citizen ID + category digit +
    grade digit (+ B1, B2 … for a reissue); the services keep number, holder and fields in
    agreement. A person holds at most one live (valid, expiring or expired) certificate."""

    number = models.CharField(_("残疾人证号"), max_length=24, db_index=True)
    person = models.ForeignKey(
        Person, verbose_name=_("持证人"), on_delete=models.PROTECT, related_name="certificates"
    )
    category = models.PositiveSmallIntegerField(_("残疾类别"), choices=DisabilityCategory.choices)
    included_categories = models.CharField(
        _("多重残疾包含类别"), max_length=6, blank=True, help_text=_("类别代码，如 46")
    )
    grade = models.PositiveSmallIntegerField(_("残疾等级"), choices=DisabilityGrade.choices)
    issued_on = models.DateField(_("发证日期"))
    valid_until = models.DateField(_("有效期至"))
    status = FSMField(
        _("状态"),
        default=CertificateStatus.VALID,
        choices=CertificateStatus.choices,
        protected=True,
    )
    status_reason = models.CharField(_("状态说明"), max_length=200, blank=True)
    replaces = models.ForeignKey(
        "self",
        verbose_name=_("换发自"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replacements",
    )
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("残疾人证")
        verbose_name_plural = _("残疾人证")
        constraints = [
            models.UniqueConstraint(
                fields=["number"],
                condition=models.Q(status__in=_HELD),
                name="certificate_live_number_unique",
            ),
            models.UniqueConstraint(
                fields=["person"],
                condition=models.Q(status__in=_HELD),
                name="certificate_one_live_per_person",
            ),
        ]
        indexes = [models.Index(fields=["status", "valid_until"])]

    def __str__(self) -> str:
        return self.number

    @property
    def masked_number(self) -> str:
        return mask(self.number, CERTIFICATE)

    @property
    def included(self) -> list[int]:
        return [int(c) for c in self.included_categories]

    @property
    def covers_psychiatric(self) -> bool:
        return self.category == DisabilityCategory.PSYCHIATRIC or "6" in self.included_categories

    @property
    def included_names(self) -> str:
        return "、".join(CATEGORY_NAMES[c] for c in self.included)

    # --- lifecycle (django-fsm); registry.services.certificates calls these and audits ---
    @transition(field=status, source=CertificateStatus.VALID, target=CertificateStatus.EXPIRING)
    def mark_expiring(self) -> None:
        pass

    @transition(
        field=status,
        source=[CertificateStatus.VALID, CertificateStatus.EXPIRING],
        target=CertificateStatus.EXPIRED,
    )
    def mark_expired(self) -> None:
        pass

    @transition(
        field=status,
        source=[CertificateStatus.EXPIRING, CertificateStatus.EXPIRED],
        target=CertificateStatus.VALID,
    )
    def renew(self, *, issued_on, valid_until) -> None:
        self.issued_on, self.valid_until = issued_on, valid_until

    @transition(field=status, source=_HELD, target=CertificateStatus.CANCELLED)
    def cancel(self, *, reason: str) -> None:
        self.status_reason = reason

    @transition(field=status, source=_HELD, target=CertificateStatus.REISSUED)
    def supersede(self, *, reason: str) -> None:
        self.status_reason = reason
