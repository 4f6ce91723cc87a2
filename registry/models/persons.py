"""Persons (disabled persons and applicants) and their card accounts."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..masking import CARD, CITIZEN_ID, PHONE, mask
from .org_units import OrgUnit


class Sex(models.TextChoices):
    MALE = "male", _("男")
    FEMALE = "female", _("女")


class LowIncomeStatus(models.TextChoices):
    NONE = "none", _("无")
    DIBAO = "dibao", _("低保")
    TEKUN = "tekun", _("特困")


class LifeStatus(models.TextChoices):
    ALIVE = "alive", _("在世")
    DECEASED = "deceased", _("已故")


class Person(models.Model):
    """A disabled person or applicant (残疾人/申请人), keyed by the 18-digit citizen ID.

    Birth date and sex are read from the ID by the service, never typed in."""

    citizen_id = models.CharField(_("公民身份号码"), max_length=18, unique=True)
    name = models.CharField(_("姓名"), max_length=50)
    birth_date = models.DateField(_("出生日期"), editable=False)
    sex = models.CharField(_("性别"), max_length=8, choices=Sex.choices, editable=False)
    household_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("户籍地"),
        on_delete=models.PROTECT,
        related_name="residents",
    )
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    low_income_status = models.CharField(
        _("困难类别"), max_length=8, choices=LowIncomeStatus.choices, default=LowIncomeStatus.NONE
    )
    low_income_since = models.DateField(_("困难认定日期"), null=True, blank=True)
    low_income_until = models.DateField(_("困难终止日期"), null=True, blank=True)
    publicly_funded = models.BooleanField(_("财政供养人员"), default=False)
    life_status = models.CharField(
        _("生存状态"), max_length=10, choices=LifeStatus.choices, default=LifeStatus.ALIVE
    )
    deceased_on = models.DateField(_("死亡日期"), null=True, blank=True)
    moved_out_on = models.DateField(_("户籍迁出日期"), null=True, blank=True)
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        ordering = ["household_unit__path", "name", "pk"]
        indexes = [models.Index(fields=["household_unit", "name"])]

    def __str__(self) -> str:
        return f"{self.name}（{self.masked_citizen_id}）"

    @property
    def masked_citizen_id(self) -> str:
        return mask(self.citizen_id, CITIZEN_ID)

    @property
    def masked_phone(self) -> str:
        return mask(self.phone, PHONE)

    @property
    def moved_out(self) -> bool:
        return self.moved_out_on is not None

    @property
    def is_deceased(self) -> bool:
        return self.life_status == LifeStatus.DECEASED

    def low_income_on(self, day) -> str:
        """The low-income status in force on ``day`` (``none`` outside its dates)."""
        if self.low_income_status == LowIncomeStatus.NONE:
            return LowIncomeStatus.NONE
        if self.low_income_since and day < self.low_income_since:
            return LowIncomeStatus.NONE
        if self.low_income_until and day > self.low_income_until:
            return LowIncomeStatus.NONE
        return self.low_income_status


class CardKind(models.TextChoices):
    BANK_CARD = "bank_card", _("银行卡")
    SOCIAL_SECURITY_CARD = "social_security_card", _("社会保障卡")
    ONE_CARD = "one_card", _("惠民惠农一卡通")


class CardStatus(models.TextChoices):
    ACTIVE = "active", _("正常")
    INVALID = "invalid", _("无效")
    CLOSED = "closed", _("已销户")


class CardAccount(models.Model):
    """The account a person's subsidies are paid to (银行卡/社保卡/一卡通). Shown masked; a full
    view is recorded in the registry's audit chain."""

    person = models.OneToOneField(
        Person, verbose_name=_("人员"), on_delete=models.CASCADE, related_name="card_account"
    )
    kind = models.CharField(_("账户类型"), max_length=24, choices=CardKind.choices)
    bank_name = models.CharField(_("开户银行"), max_length=100, blank=True)
    number = models.CharField(_("账号"), max_length=32)
    status = models.CharField(
        _("账户状态"), max_length=10, choices=CardStatus.choices, default=CardStatus.ACTIVE
    )
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("发放账户")
        verbose_name_plural = _("发放账户")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.masked_number}"

    @property
    def masked_number(self) -> str:
        return mask(self.number, CARD)


class InstitutionAssignment(models.Model):
    """A person's case is assigned to an institution (评估/服务机构); its staff may see them."""

    person = models.ForeignKey(
        Person, verbose_name=_("人员"), on_delete=models.CASCADE, related_name="assignments"
    )
    institution = models.ForeignKey(
        OrgUnit, verbose_name=_("机构"), on_delete=models.PROTECT, related_name="assignments"
    )
    case_reference = models.CharField(_("业务编号"), max_length=200, blank=True)
    assigned_at = models.DateTimeField(_("指派时间"), default=timezone.now)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("机构指派")
        verbose_name_plural = _("机构指派")
        indexes = [models.Index(fields=["institution", "ended_at"])]

    def __str__(self) -> str:
        return f"{self.person_id} → {self.institution_id} {self.case_reference}"
