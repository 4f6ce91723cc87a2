"""A petition and the units handling it; the petition's lifecycle is a django-fsm state."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition


class Channel(models.TextChoices):
    VISIT = "visit", _("visit")
    LETTER = "letter", _("letter")
    PHONE = "phone", _("phone")
    ONLINE = "online", _("online")


class PetitionState(models.TextChoices):
    REGISTERED = "registered", _("registered")
    ANSWERED_ON_SPOT = "answered_on_spot", _("answered on the spot")
    NOT_IN_REMIT = "not_in_remit", _("not within our remit")
    ACCEPTED = "accepted", _("accepted")
    REPLIED = "replied", _("replied")
    UNDER_REVIEW = "under_review", _("under review")
    REVIEWED = "reviewed", _("reviewed")
    UNDER_RE_REVIEW = "under_re_review", _("under re-review")
    CLOSED = "closed", _("closed")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("satisfied")
    PARTLY = "partly", _("partly satisfied")
    UNSATISFIED = "unsatisfied", _("unsatisfied")
    UNKNOWN = "unknown", _("not stated")


class Petition(FSMModelMixin, models.Model):
    """One petition (信访件). Its first receiver (首接人) owns it until it is closed."""

    number = models.CharField(_("number"), max_length=32, unique=True)
    first_receiver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("first receiver"),
    )
    receiving_unit = models.CharField(_("receiving unit"), max_length=32)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    received_at = models.DateTimeField(_("received at"))
    petitioner_name = models.CharField(_("petitioner"), max_length=100)
    petitioner_id_number = models.CharField(_("citizen ID"), max_length=18, blank=True)
    petitioner_phone = models.CharField(_("phone"), max_length=30, blank=True)
    subject = models.CharField(_("subject"), max_length=200)
    content = models.TextField(_("content"))
    notice = models.TextField(_("one-time notice"), blank=True)  # 一次性告知
    notice_given_at = models.DateTimeField(null=True, blank=True)
    state = FSMField(
        default=PetitionState.REGISTERED, choices=PetitionState.choices, protected=True
    )
    acceptance_due = models.DateTimeField(_("acceptance due"))
    accepted_at = models.DateTimeField(null=True, blank=True)
    remit_body = models.CharField(_("body with remit"), max_length=200, blank=True)
    reply_due = models.DateTimeField(_("reply due"), null=True, blank=True)
    extension_days = models.PositiveIntegerField(default=0)
    extension_reason = models.TextField(blank=True)
    extension_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reply_text = models.TextField(_("written reply"), blank=True)
    reply_delivered_on = models.DateField(_("reply delivered on"), null=True, blank=True)
    review_text = models.TextField(_("review answer"), blank=True)
    re_review_text = models.TextField(_("re-review answer"), blank=True)
    satisfaction = models.CharField(max_length=12, choices=Satisfaction.choices, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    final = models.BooleanField(default=False)  # after re-review: the matter is not accepted again
    repeat_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="repeats"
    )
    instance = models.OneToOneField(
        "workflows.ProcessInstance",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("petition")
        verbose_name_plural = _("petitions")
        indexes = [models.Index(fields=["petitioner_id_number"]), models.Index(fields=["state"])]
        permissions = [("view_petition_case", "Can view this petition")]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def masked_petitioner(self) -> str:
        name = self.petitioner_name
        return name[:1] + "*" * max(len(name) - 1, 1)

    # --- lifecycle ---
    @transition(field=state, source=PetitionState.REGISTERED, target=PetitionState.ANSWERED_ON_SPOT)
    def answer_on_spot(self) -> None:
        pass

    @transition(field=state, source=PetitionState.REGISTERED, target=PetitionState.NOT_IN_REMIT)
    def refuse_remit(self, *, body: str) -> None:
        self.remit_body = body

    @transition(field=state, source=PetitionState.REGISTERED, target=PetitionState.ACCEPTED)
    def accept(self, *, at, reply_due) -> None:
        self.accepted_at, self.reply_due = at, reply_due

    @transition(field=state, source=PetitionState.ACCEPTED, target=PetitionState.ACCEPTED)
    def extend(self, *, days: int, reason: str, approved_by) -> None:
        self.extension_days, self.extension_reason = days, reason
        self.extension_approved_by = approved_by

    @transition(field=state, source=PetitionState.ACCEPTED, target=PetitionState.REPLIED)
    def reply(self, *, text: str, delivered_on) -> None:
        self.reply_text, self.reply_delivered_on = text, delivered_on

    @transition(field=state, source=PetitionState.REPLIED, target=PetitionState.UNDER_REVIEW)
    def request_review(self) -> None:
        pass

    @transition(field=state, source=PetitionState.UNDER_REVIEW, target=PetitionState.REVIEWED)
    def answer_review(self, *, text: str) -> None:
        self.review_text = text

    @transition(field=state, source=PetitionState.REVIEWED, target=PetitionState.UNDER_RE_REVIEW)
    def request_re_review(self) -> None:
        pass

    @transition(field=state, source=PetitionState.UNDER_RE_REVIEW, target=PetitionState.CLOSED)
    def answer_re_review(self, *, text: str) -> None:
        self.re_review_text, self.final = text, True
        self.closed_at = timezone.now()

    @transition(
        field=state,
        source=[
            PetitionState.ANSWERED_ON_SPOT,
            PetitionState.NOT_IN_REMIT,
            PetitionState.REPLIED,
            PetitionState.REVIEWED,
        ],
        target=PetitionState.CLOSED,
    )
    def close(self, *, satisfaction: str) -> None:
        self.satisfaction, self.closed_at = satisfaction, timezone.now()


class HandlingAssignment(models.Model):
    """A unit asked to handle a petition (转办); the first receiver stays responsible."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="assignments")
    unit = models.CharField(_("handling unit"), max_length=32)
    instruction = models.TextField(_("instruction"), blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(default=timezone.now)
    reported_at = models.DateTimeField(null=True, blank=True)
    report = models.TextField(_("report"), blank=True)

    class Meta:
        verbose_name = _("handling assignment")
        verbose_name_plural = _("handling assignments")

    def __str__(self) -> str:
        return f"{self.petition.number} → {self.unit}"
