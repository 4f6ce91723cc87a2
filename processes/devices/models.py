"""The device catalogue, agreements with service institutions, applications (each with a
django-fsm lifecycle), their fitting plans, purchase orders, fittings and follow-up visits, and
the monthly settlement statements.

The process instance carries the application's id, decisions and the plan's few lines (the DMN
tables read them); everything else lives in these tables."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition

MONEY = {"max_digits": 12, "decimal_places": 2}


class DeviceCategory(models.TextChoices):
    """Classes of GB/T 16432 (ISO 9999) that the county's catalogue uses."""

    MOBILITY = "mobility", _("personal mobility")
    PERSONAL_CARE = "personal_care", _("personal care and protection")
    COMMUNICATION = "communication", _("communication and information")
    ORTHOSES = "orthoses", _("orthoses and prostheses")
    HOUSEHOLD = "household", _("household and daily living")


class Device(models.Model):
    """A catalogue item (辅助器具目录): what may be fitted, its subsidy ceiling and the usage
    period before the same person may have it again."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(_("category"), max_length=20, choices=DeviceCategory.choices)
    ceiling = models.DecimalField(_("subsidy ceiling (yuan)"), **MONEY)
    usage_months = models.PositiveSmallIntegerField(_("usage period (months)"))
    description = models.CharField(_("description"), max_length=200, blank=True)
    is_active = models.BooleanField(_("in the catalogue"), default=True)

    class Meta:
        verbose_name = _("catalogue device")
        verbose_name_plural = _("device catalogue")
        ordering = ["category", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ServiceAgreement(models.Model):
    """A service agreement (服务协议) the county signed with a service institution: the device
    categories it may fit, and for how long."""

    number = models.CharField(_("agreement number"), max_length=40, unique=True)
    institution = models.ForeignKey(
        "registry.OrgUnit",
        on_delete=models.PROTECT,
        related_name="device_agreements",
        verbose_name=_("service institution"),
    )
    categories = models.JSONField(_("device categories"), default=list)
    signed_on = models.DateField(_("signed on"))
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    terminated_on = models.DateField(_("terminated on"), null=True, blank=True)

    class Meta:
        verbose_name = _("service agreement")
        verbose_name_plural = _("service agreements")
        ordering = ["institution__code", "-valid_until"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("valid_from")),
                name="device_agreement_period_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.number

    def in_force_on(self, day) -> bool:
        ended = self.terminated_on is not None and self.terminated_on <= day
        return self.valid_from <= day <= self.valid_until and not ended

    def covers(self, category: str, day) -> bool:
        return self.in_force_on(day) and category in (self.categories or [])


class ApplicationState(models.TextChoices):
    INITIAL_CHECK = "initial_check", _("initial check by the village")
    SECOND_CHECK = "second_check", _("second check by the township")
    RETURNED = "returned", _("returned for more material")
    ASSESSMENT = "assessment", _("assessment")
    APPROVAL = "approval", _("county approval")
    PROCUREMENT = "procurement", _("procurement")
    FITTING = "fitting", _("fitting")
    ACCEPTANCE = "acceptance", _("acceptance")
    FOLLOW_UP = "follow_up", _("fitted, follow-up")
    CLOSED = "closed", _("closed")
    REJECTED = "rejected", _("rejected")


# The states in which an application's devices count as received (usage periods run).
FITTED_STATES = [ApplicationState.FOLLOW_UP, ApplicationState.CLOSED]
# The states of an application still under way (a second one for the same device waits).
OPEN_STATES = [
    ApplicationState.INITIAL_CHECK,
    ApplicationState.SECOND_CHECK,
    ApplicationState.RETURNED,
    ApplicationState.ASSESSMENT,
    ApplicationState.APPROVAL,
    ApplicationState.PROCUREMENT,
    ApplicationState.FITTING,
    ApplicationState.ACCEPTANCE,
]
# Approved applications: their granted subsidy counts against a child's yearly cap.
APPROVED_STATES = [
    ApplicationState.PROCUREMENT,
    ApplicationState.FITTING,
    ApplicationState.ACCEPTANCE,
    ApplicationState.FOLLOW_UP,
    ApplicationState.CLOSED,
]


class DeviceApplication(FSMModelMixin, models.Model):
    """One person's application for assistive devices (辅助器具适配申请), from registration to
    the institution's settlement."""

    number = models.CharField(_("number"), max_length=32, unique=True)
    person = models.ForeignKey(
        "registry.Person",
        on_delete=models.PROTECT,
        related_name="device_applications",
        verbose_name=_("applicant"),
    )
    household_unit = models.ForeignKey(
        "registry.OrgUnit", on_delete=models.PROTECT, related_name="+", verbose_name=_("village")
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now)
    requested_devices = models.JSONField(_("requested devices"), default=list, blank=True)
    needs_assessment = models.BooleanField(_("needs assessment"), default=False)
    reason = models.TextField(_("reason and needs"))
    contact_phone = models.CharField(_("phone"), max_length=30, blank=True)
    applicant_age = models.PositiveSmallIntegerField(_("age at application"))
    is_child = models.BooleanField(_("child"), default=False)
    state = FSMField(
        _("state"),
        max_length=20,
        default=ApplicationState.INITIAL_CHECK,
        choices=ApplicationState.choices,
        protected=True,
    )
    returned_from = models.CharField(max_length=20, blank=True)
    return_count = models.PositiveSmallIntegerField(default=0)
    missing_material = models.TextField(_("material asked for"), blank=True)
    reject_reason = models.TextField(_("reason for rejection"), blank=True)
    assessment_institution = models.ForeignKey(
        "registry.OrgUnit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("assessment institution"),
    )
    assessment = models.TextField(_("needs assessment"), blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assessed_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approval_year = models.PositiveSmallIntegerField(null=True, blank=True)
    price_total = models.DecimalField(_("price"), default=0, **MONEY)
    subsidy_by_ceiling = models.DecimalField(_("subsidy by the ceilings"), default=0, **MONEY)
    subsidy_granted = models.DecimalField(_("subsidy granted"), default=0, **MONEY)
    cap_excess = models.DecimalField(_("above the child's yearly cap"), default=0, **MONEY)
    self_pay = models.DecimalField(_("paid by the person"), default=0, **MONEY)
    service_institution = models.ForeignKey(
        "registry.OrgUnit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("service institution"),
    )
    fitted_on = models.DateField(_("fitted on"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    instance = models.OneToOneField(
        "workflows.ProcessInstance",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("device application")
        verbose_name_plural = _("device applications")
        indexes = [
            models.Index(fields=["person", "state"]),
            models.Index(fields=["assessment_institution", "state"]),
            models.Index(fields=["service_institution", "state"]),
            models.Index(fields=["state", "accepted_at"]),
        ]

    def __str__(self) -> str:
        return self.number

    # --- lifecycle; services call these under the row lock and audit every change ---
    @transition(
        field=state, source=ApplicationState.INITIAL_CHECK, target=ApplicationState.SECOND_CHECK
    )
    def pass_initial_check(self) -> None:
        pass

    @transition(
        field=state, source=ApplicationState.SECOND_CHECK, target=ApplicationState.ASSESSMENT
    )
    def pass_second_check(self) -> None:
        pass

    @transition(
        field=state,
        source=[ApplicationState.INITIAL_CHECK, ApplicationState.SECOND_CHECK],
        target=ApplicationState.RETURNED,
    )
    def return_for_material(self, *, missing: str) -> None:
        self.returned_from, self.missing_material = self.state, missing
        self.return_count += 1

    @transition(
        field=state,
        source=ApplicationState.RETURNED,
        target=RETURN_VALUE(ApplicationState.INITIAL_CHECK, ApplicationState.SECOND_CHECK),
    )
    def resubmit(self) -> str:
        return self.returned_from

    @transition(
        field=state,
        source=[
            ApplicationState.INITIAL_CHECK,
            ApplicationState.SECOND_CHECK,
            ApplicationState.APPROVAL,
        ],
        target=ApplicationState.REJECTED,
    )
    def reject(self, *, reason: str) -> None:
        self.reject_reason = reason

    @transition(field=state, source=ApplicationState.ASSESSMENT, target=ApplicationState.ASSESSMENT)
    def assign_assessment(self, *, institution) -> None:
        self.assessment_institution = institution

    @transition(field=state, source=ApplicationState.ASSESSMENT, target=ApplicationState.APPROVAL)
    def record_assessment(self, *, text: str, by) -> None:
        self.assessment, self.assessed_by, self.assessed_at = text, by, timezone.now()

    @transition(field=state, source=ApplicationState.APPROVAL, target=ApplicationState.ASSESSMENT)
    def send_back_for_revision(self) -> None:
        pass

    @transition(field=state, source=ApplicationState.APPROVAL, target=ApplicationState.PROCUREMENT)
    def approve(self, *, by, at) -> None:
        self.approved_by, self.approved_at = by, at
        self.approval_year = timezone.localtime(at).year

    @transition(field=state, source=ApplicationState.PROCUREMENT, target=ApplicationState.FITTING)
    def order(self, *, institution) -> None:
        self.service_institution = institution

    @transition(field=state, source=ApplicationState.FITTING, target=ApplicationState.ACCEPTANCE)
    def record_fitting(self, *, delivered_on) -> None:
        self.fitted_on = self.fitted_on or delivered_on

    @transition(field=state, source=ApplicationState.ACCEPTANCE, target=ApplicationState.FOLLOW_UP)
    def accept(self, *, at) -> None:
        self.accepted_at = self.accepted_at or at

    @transition(field=state, source=ApplicationState.ACCEPTANCE, target=ApplicationState.FITTING)
    def refuse_acceptance(self) -> None:
        pass

    @transition(field=state, source=ApplicationState.FOLLOW_UP, target=ApplicationState.FITTING)
    def refit(self) -> None:
        pass

    @transition(field=state, source=ApplicationState.FOLLOW_UP, target=ApplicationState.CLOSED)
    def close(self) -> None:
        self.closed_at = timezone.now()


class PlanItem(models.Model):
    """One line of the fitting plan (适配方案): a catalogue device, how many, at what price,
    and — once approved — what the subsidy pays and what the person pays."""

    application = models.ForeignKey(
        DeviceApplication, on_delete=models.CASCADE, related_name="plan_items"
    )
    line = models.PositiveSmallIntegerField()
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveSmallIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    ceiling = models.DecimalField(_("ceiling"), **MONEY)
    specification = models.CharField(_("model and specification"), max_length=200, blank=True)
    subsidy = models.DecimalField(_("subsidy"), default=0, **MONEY)
    self_pay = models.DecimalField(_("paid by the person"), default=0, **MONEY)
    rule = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name = _("plan item")
        verbose_name_plural = _("plan items")
        ordering = ["application", "line"]
        constraints = [
            models.UniqueConstraint(fields=["application", "line"], name="device_plan_line_unique")
        ]

    def __str__(self) -> str:
        return f"{self.application_id}/{self.line} {self.device_id} × {self.quantity}"

    @property
    def price(self):
        return self.unit_price * self.quantity


class PurchaseOrder(models.Model):
    """The purchase order (采购单) to the chosen service institution under its agreement."""

    number = models.CharField(_("number"), max_length=32, unique=True)
    application = models.OneToOneField(
        DeviceApplication, on_delete=models.PROTECT, related_name="purchase_order"
    )
    institution = models.ForeignKey("registry.OrgUnit", on_delete=models.PROTECT, related_name="+")
    agreements = models.JSONField(_("agreements"), default=list)  # their numbers
    price_total = models.DecimalField(**MONEY)
    subsidy = models.DecimalField(**MONEY)
    self_pay = models.DecimalField(**MONEY)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")

    def __str__(self) -> str:
        return self.number


class FittingKind(models.TextChoices):
    FIRST = "first", _("first fitting")
    REPAIR = "repair", _("repair")
    REFIT = "refit", _("refit")


class Fitting(models.Model):
    """A delivery and fitting with adaptive training by the institution, and its acceptance by
    the person (or the officer for them)."""

    application = models.ForeignKey(
        DeviceApplication, on_delete=models.CASCADE, related_name="fittings"
    )
    kind = models.CharField(max_length=10, choices=FittingKind.choices)
    delivered_on = models.DateField(_("delivered on"))
    fitting_notes = models.TextField(_("fitting"))
    training_notes = models.TextField(_("adaptive training"))
    serial_numbers = models.CharField(_("serial numbers"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    accepted = models.BooleanField(null=True)
    confirmed_by = models.CharField(_("confirmed by"), max_length=20, blank=True)
    acceptance_note = models.TextField(blank=True)
    acceptance_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acceptance_recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("fitting")
        verbose_name_plural = _("fittings")
        ordering = ["application", "recorded_at", "pk"]

    def __str__(self) -> str:
        return f"{self.application_id} {self.kind} {self.delivered_on}"


class FollowUpOutcome(models.TextChoices):
    CLOSE = "close", _("in good use: close")
    REPAIR = "repair", _("needs repair")
    REFIT = "refit", _("needs refitting")


class FollowUpVisit(models.Model):
    """The institution's follow-up visit (回访) after a fitting."""

    application = models.ForeignKey(
        DeviceApplication, on_delete=models.CASCADE, related_name="follow_ups"
    )
    visited_on = models.DateField(_("visited on"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=FollowUpOutcome.choices)
    findings = models.TextField(_("findings"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("follow-up visit")
        verbose_name_plural = _("follow-up visits")
        ordering = ["application", "visited_on", "pk"]

    def __str__(self) -> str:
        return f"{self.application_id} {self.visited_on} {self.outcome}"


class SettlementStatement(models.Model):
    """One institution's monthly settlement statement (结算单): the subsidies of the fittings
    accepted up to the end of that month that no earlier statement settled."""

    number = models.CharField(_("number"), max_length=40, unique=True)
    institution = models.ForeignKey("registry.OrgUnit", on_delete=models.PROTECT, related_name="+")
    period = models.DateField(_("month"))  # its first day
    line_count = models.PositiveIntegerField(default=0)
    subsidy_total = models.DecimalField(default=0, **MONEY)
    created_at = models.DateTimeField(default=timezone.now)
    file = models.FileField(upload_to="devices/settlements/", blank=True)
    sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("settlement statement")
        verbose_name_plural = _("settlement statements")
        ordering = ["-period", "institution__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "period"], name="device_statement_one_per_month"
            )
        ]

    def __str__(self) -> str:
        return self.number


class SettlementLine(models.Model):
    """A fitting settled to its institution. One per application, ever: the database refuses a
    second settlement of the same fitting."""

    statement = models.ForeignKey(
        SettlementStatement, on_delete=models.PROTECT, related_name="lines"
    )
    application = models.OneToOneField(
        DeviceApplication, on_delete=models.PROTECT, related_name="settlement_line"
    )
    subsidy = models.DecimalField(**MONEY)

    class Meta:
        verbose_name = _("settlement line")
        verbose_name_plural = _("settlement lines")

    def __str__(self) -> str:
        return f"{self.statement_id}: {self.application_id}"
