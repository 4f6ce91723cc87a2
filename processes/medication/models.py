"""A year's medication-subsidy cycle, its entries (one per person listed), the reference files the
comparison reads, and the payout batches; each with a django-fsm lifecycle.

The rows live here, not in the workflow state: the cycle's process instance carries the cycle id
and the decisions, never the list of persons (docs/architecture.md: workflow state stays small).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition


class CycleState(models.TextChoices):
    SURVEYING = "surveying", _("survey and data comparison")
    REVIEWING = "reviewing", _("township review")
    COUNTY_APPROVED = "county_approved", _("approved by the county federation")
    FINANCE_APPROVED = "finance_approved", _("approved by the finance bureau")
    PAYING = "paying", _("paying out")
    CLOSED = "closed", _("closed")


class MedicationCycle(FSMModelMixin, models.Model):
    """One year's medication subsidy (困难精神残疾人药费补助) in one county."""

    year = models.PositiveIntegerField(_("year"), unique=True)
    county = models.ForeignKey(
        "registry.OrgUnit", on_delete=models.PROTECT, related_name="+", verbose_name=_("county")
    )
    state = FSMField(
        _("state"), default=CycleState.SURVEYING, choices=CycleState.choices, protected=True
    )
    amount = models.DecimalField(_("amount per person"), max_digits=10, decimal_places=2)
    rules = models.JSONField(_("eligibility rules"), default=dict)
    instance = models.OneToOneField(
        "workflows.ProcessInstance",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    compared_at = models.DateTimeField(_("compared at"), null=True, blank=True)
    comparison = models.JSONField(_("comparison summary"), default=dict, blank=True)
    county_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    county_approved_at = models.DateTimeField(null=True, blank=True)
    county_approved_persons = models.PositiveIntegerField(default=0)
    county_approved_total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    finance_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    finance_approved_at = models.DateTimeField(null=True, blank=True)
    finance_approved_total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    last_return_reason = models.TextField(_("last return reason"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    report = models.JSONField(_("cycle report"), default=dict, blank=True)

    class Meta:
        verbose_name = _("medication-subsidy cycle")
        verbose_name_plural = _("medication-subsidy cycles")
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year} medication subsidy"

    # --- lifecycle ---
    @transition(field=state, source=CycleState.SURVEYING, target=CycleState.REVIEWING)
    def compare(self) -> None:
        self.compared_at = timezone.now()

    @transition(field=state, source=CycleState.REVIEWING, target=CycleState.COUNTY_APPROVED)
    def county_approve(self, *, user, persons: int, total) -> None:
        self.county_approved_by, self.county_approved_at = user, timezone.now()
        self.county_approved_persons, self.county_approved_total = persons, total

    @transition(field=state, source=CycleState.COUNTY_APPROVED, target=CycleState.REVIEWING)
    def finance_return(self, *, reason: str) -> None:
        self.last_return_reason = reason

    @transition(field=state, source=CycleState.COUNTY_APPROVED, target=CycleState.FINANCE_APPROVED)
    def finance_approve(self, *, user, total) -> None:
        self.finance_approved_by, self.finance_approved_at = user, timezone.now()
        self.finance_approved_total = total

    @transition(field=state, source=CycleState.FINANCE_APPROVED, target=CycleState.PAYING)
    def start_payout(self) -> None:
        pass

    @transition(
        field=state,
        source=[CycleState.PAYING, CycleState.FINANCE_APPROVED],
        target=CycleState.CLOSED,
    )
    def close(self, *, report: dict) -> None:
        self.report, self.closed_at = report, timezone.now()


class TownshipListState(models.TextChoices):
    SURVEYING = "surveying", _("surveying")
    SURVEY_SUBMITTED = "survey_submitted", _("survey submitted")
    REVIEWING = "reviewing", _("reviewing")
    SUBMITTED = "submitted", _("submitted")
    RETURNED = "returned", _("returned for review")


class TownshipList(FSMModelMixin, models.Model):
    """A township's part of a cycle: its survey, its review and its account corrections."""

    cycle = models.ForeignKey(MedicationCycle, on_delete=models.CASCADE, related_name="townships")
    township = models.ForeignKey(
        "registry.OrgUnit", on_delete=models.PROTECT, related_name="+", verbose_name=_("township")
    )
    state = FSMField(
        default=TownshipListState.SURVEYING, choices=TownshipListState.choices, protected=True
    )
    survey_submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    survey_submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    returned_reason = models.TextField(_("return reason"), blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    return_count = models.PositiveIntegerField(default=0)
    corrections_submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("township list")
        verbose_name_plural = _("township lists")
        constraints = [
            models.UniqueConstraint(fields=["cycle", "township"], name="township_list_unique")
        ]

    def __str__(self) -> str:
        return f"{self.cycle_id}/{self.township_id}"

    @transition(
        field=state, source=TownshipListState.SURVEYING, target=TownshipListState.SURVEY_SUBMITTED
    )
    def submit_survey(self, *, user) -> None:
        self.survey_submitted_by, self.survey_submitted_at = user, timezone.now()

    @transition(
        field=state,
        source=[TownshipListState.SURVEYING, TownshipListState.SURVEY_SUBMITTED],
        target=TownshipListState.REVIEWING,
    )
    def open_review(self) -> None:
        pass

    @transition(
        field=state,
        source=[TownshipListState.REVIEWING, TownshipListState.RETURNED],
        target=TownshipListState.SUBMITTED,
    )
    def submit(self, *, user) -> None:
        self.submitted_by, self.submitted_at = user, timezone.now()

    @transition(field=state, source=TownshipListState.SUBMITTED, target=TownshipListState.RETURNED)
    def send_back(self, *, reason: str) -> None:
        self.returned_reason, self.returned_at = reason, timezone.now()
        self.return_count += 1


class EntrySource(models.TextChoices):
    CONTINUING = "continuing", _("continuing recipient")
    NEW = "new", _("new applicant")


class EntryState(models.TextChoices):
    SURVEYED = "surveyed", _("listed")
    COMPARED = "compared", _("compared, to review")
    TOWNSHIP_APPROVED = "township_approved", _("approved by the township")
    TOWNSHIP_REJECTED = "township_rejected", _("rejected by the township")
    COUNTY_APPROVED = "county_approved", _("approved by the county")
    FINANCE_APPROVED = "finance_approved", _("approved by finance")
    PAID = "paid", _("paid")
    PAYMENT_FAILED = "payment_failed", _("payment failed")
    WITHDRAWN = "withdrawn", _("withdrawn from the survey")


TOWNSHIP_DECIDABLE = [
    EntryState.COMPARED,
    EntryState.TOWNSHIP_APPROVED,
    EntryState.TOWNSHIP_REJECTED,
]
PAYABLE = [EntryState.FINANCE_APPROVED, EntryState.PAYMENT_FAILED]


class MedicationEntry(FSMModelMixin, models.Model):
    """One person's place in a yearly medication-subsidy cycle (困难精神残疾人药费补助).

    Bulk actions move many entries with one filtered UPDATE whose filter is the transition's
    source state; single decisions go through the transitions below. Either way the cycle's
    audit stream records who did it and why."""

    cycle = models.ForeignKey(MedicationCycle, on_delete=models.CASCADE, related_name="entries")
    person = models.ForeignKey(
        "registry.Person", on_delete=models.PROTECT, related_name="+", verbose_name=_("person")
    )
    township = models.ForeignKey(
        "registry.OrgUnit", on_delete=models.PROTECT, related_name="+", verbose_name=_("township")
    )
    source = models.CharField(_("source"), max_length=12, choices=EntrySource.choices)
    state = FSMField(
        _("state"), default=EntryState.SURVEYED, choices=EntryState.choices, protected=True
    )
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    flagged = models.BooleanField(_("flagged"), default=False)
    survey_check = models.JSONField(default=list, blank=True)  # reasons shown when added
    note = models.CharField(_("note"), max_length=200, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)
    decision_reason = models.TextField(_("reason"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    retry_requested = models.BooleanField(default=False)  # account corrected: pay again
    abandoned_reason = models.TextField(blank=True)  # payment failed for good

    class Meta:
        verbose_name = _("medication-subsidy entry")
        verbose_name_plural = _("medication-subsidy entries")
        indexes = [
            models.Index(fields=["cycle", "township", "state"]),
            models.Index(fields=["cycle", "state"]),
            models.Index(fields=["cycle", "person"]),
        ]

    def __str__(self) -> str:
        return f"{self.cycle_id}:{self.person_id} {self.state}"

    @transition(field=state, source=EntryState.SURVEYED, target=EntryState.WITHDRAWN)
    def withdraw(self) -> None:
        pass

    @transition(field=state, source=EntryState.SURVEYED, target=EntryState.COMPARED)
    def compare(self) -> None:
        pass

    @transition(field=state, source=TOWNSHIP_DECIDABLE, target=EntryState.TOWNSHIP_APPROVED)
    def township_approve(self, *, user, reason: str = "") -> None:
        self.decided_by, self.decided_at, self.decision_reason = user, timezone.now(), reason

    @transition(field=state, source=TOWNSHIP_DECIDABLE, target=EntryState.TOWNSHIP_REJECTED)
    def township_reject(self, *, user, reason: str) -> None:
        self.decided_by, self.decided_at, self.decision_reason = user, timezone.now(), reason

    @transition(field=state, source=PAYABLE, target=EntryState.PAID)
    def mark_paid(self) -> None:
        self.retry_requested = False

    @transition(field=state, source=PAYABLE, target=EntryState.PAYMENT_FAILED)
    def mark_failed(self) -> None:
        self.retry_requested = False


class FlagKind(models.TextChoices):
    DECEASED = "deceased", _("deceased")
    MOVED_OUT = "moved_out", _("household moved out of the county")
    CERTIFICATE_EXPIRED = "certificate_expired", _("certificate expired")
    CERTIFICATE_CANCELLED = "certificate_cancelled", _("certificate cancelled or missing")
    NOT_PSYCHIATRIC = "not_psychiatric", _("certificate does not cover psychiatric disability")
    LOW_INCOME_LOST = "low_income_lost", _("low-income status lost")
    EXCLUDED_SCHEME = "excluded_scheme", _("in an excluded support scheme")
    DUPLICATE_ID = "duplicate_id", _("duplicate citizen ID")
    NO_CARD = "no_card", _("no valid bank or card account")


class ReferenceKind(models.TextChoices):
    LOW_INCOME = "low_income", _("civil-affairs low-income list")
    DEATHS = "deaths", _("deaths")
    MOVES = "moves", _("household moves")
    PREVIOUS = "previous_recipients", _("last year's recipients")


class ReferenceFile(models.Model):
    """An uploaded Excel/CSV file the comparison reads (民政低保名单, 死亡名单, 户籍迁出名单)."""

    cycle = models.ForeignKey(
        MedicationCycle, on_delete=models.CASCADE, related_name="reference_files"
    )
    kind = models.CharField(_("kind"), max_length=24, choices=ReferenceKind.choices)
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(max_length=64)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("reference file")
        verbose_name_plural = _("reference files")
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "kind", "sha256"], name="reference_file_once_per_cycle"
            )
        ]

    def __str__(self) -> str:
        return self.file_name


class ReferenceRow(models.Model):
    """One data row of a reference file; a flag it causes names the file and this row."""

    file = models.ForeignKey(ReferenceFile, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField()
    citizen_id = models.CharField(max_length=18, db_index=True)
    name = models.CharField(max_length=50, blank=True)
    data = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.file_id}#{self.row_number}"


class EntryFlag(models.Model):
    """Why the comparison flagged an entry, and where that came from (a reference file and
    its row, or the registry)."""

    entry = models.ForeignKey(MedicationEntry, on_delete=models.CASCADE, related_name="flags")
    kind = models.CharField(_("kind"), max_length=24, choices=FlagKind.choices)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    source_file = models.ForeignKey(
        ReferenceFile, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source_name = models.CharField(_("source"), max_length=255, blank=True)
    source_row = models.PositiveIntegerField(_("row"), null=True, blank=True)

    class Meta:
        verbose_name = _("entry flag")
        verbose_name_plural = _("entry flags")

    def __str__(self) -> str:
        return f"{self.entry_id} {self.kind}"


class BatchKind(models.TextChoices):
    INITIAL = "initial", _("payout")
    FOLLOW_UP = "follow_up", _("follow-up payout")


class BatchState(models.TextChoices):
    PREPARED = "prepared", _("file ready for the bank")
    SETTLED = "settled", _("bank results recorded")


class PayoutBatch(FSMModelMixin, models.Model):
    """A bank batch (代发批次): the lines of one payout file, produced once per approved list."""

    cycle = models.ForeignKey(MedicationCycle, on_delete=models.CASCADE, related_name="batches")
    number = models.PositiveIntegerField(_("number"))
    kind = models.CharField(_("kind"), max_length=12, choices=BatchKind.choices)
    state = FSMField(default=BatchState.PREPARED, choices=BatchState.choices, protected=True)
    line_count = models.PositiveIntegerField(_("lines"), default=0)
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=0)
    xlsx_file = models.FileField(upload_to="medication/batches/", max_length=200, blank=True)
    csv_file = models.FileField(upload_to="medication/batches/", max_length=200, blank=True)
    xlsx_sha256 = models.CharField(max_length=64, blank=True)
    csv_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("payout batch")
        verbose_name_plural = _("payout batches")
        constraints = [
            models.UniqueConstraint(fields=["cycle", "number"], name="payout_batch_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.cycle.year}-{self.number:02d}"

    @property
    def code(self) -> str:
        return f"YF{self.cycle.year}-{self.number:02d}"

    @transition(field=state, source=BatchState.PREPARED, target=BatchState.SETTLED)
    def settle(self) -> None:
        self.settled_at = timezone.now()


class LineState(models.TextChoices):
    PENDING = "pending", _("sent to the bank")
    PAID = "paid", _("paid")
    FAILED = "failed", _("failed")


LIVE_LINE_STATES = [LineState.PENDING, LineState.PAID]


class PayoutLine(models.Model):
    """One payment in a batch. The partial unique constraints are the "never twice" rule: an
    entry, and a person within a cycle, hold at most one line that is pending or paid."""

    batch = models.ForeignKey(PayoutBatch, on_delete=models.PROTECT, related_name="lines")
    entry = models.ForeignKey(MedicationEntry, on_delete=models.PROTECT, related_name="lines")
    cycle = models.ForeignKey(MedicationCycle, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=50)
    citizen_id = models.CharField(_("citizen ID"), max_length=18)
    card_number = models.CharField(_("card number"), max_length=32)
    bank_name = models.CharField(_("bank"), max_length=100, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    memo = models.CharField(_("memo"), max_length=100)
    state = models.CharField(max_length=10, choices=LineState.choices, default=LineState.PENDING)
    failure_reason = models.CharField(_("failure reason"), max_length=200, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("payout line")
        verbose_name_plural = _("payout lines")
        constraints = [
            models.UniqueConstraint(fields=["batch", "entry"], name="payout_line_once_per_batch"),
            models.UniqueConstraint(
                fields=["entry"],
                condition=Q(state__in=LIVE_LINE_STATES),
                name="payout_line_entry_paid_once",
            ),
            models.UniqueConstraint(
                fields=["cycle", "person"],
                condition=Q(state__in=LIVE_LINE_STATES),
                name="payout_line_person_paid_once_per_cycle",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_line_amount_positive"),
        ]
        indexes = [models.Index(fields=["batch", "state"])]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.citizen_id} {self.amount}"


class BankReturn(models.Model):
    """A bank's return file (回盘文件) applied to a batch; the same file twice changes nothing."""

    batch = models.ForeignKey(PayoutBatch, on_delete=models.PROTECT, related_name="returns")
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(max_length=64)
    paid = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("bank return file")
        verbose_name_plural = _("bank return files")
        constraints = [
            models.UniqueConstraint(fields=["batch", "sha256"], name="bank_return_once_per_batch")
        ]

    def __str__(self) -> str:
        return self.file_name
