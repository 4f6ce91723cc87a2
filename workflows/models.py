"""The BPM host's tables: definitions, instances, human tasks, the audit chain, role grants."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition


class ProcessDefinition(models.Model):
    """One deployed version of a procedure's diagram. Content-addressed: same bytes, same row."""

    key = models.CharField(_("key"), max_length=200)
    version = models.PositiveIntegerField(_("version"))
    name = models.CharField(_("name"), max_length=300)
    bpmn_xml = models.TextField(_("BPMN XML"))
    sha256 = models.CharField(max_length=64)
    deployed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    deployed_at = models.DateTimeField(_("deployed at"), default=timezone.now)
    dependencies = models.JSONField(default=list, blank=True)  # definitions its call activities use
    comment = models.TextField(_("why"), blank=True)  # the process owner's reason for this version
    # The form-js schemas its tasks use, frozen when it was deployed (form name → schema): a
    # submission is validated against the form of the version the case runs on. Empty for
    # versions deployed before forms were frozen; those read FORM_DIRS.
    forms = models.JSONField(default=dict, blank=True)
    # The DMN XML of the decision tables its business rule tasks name (decision id → XML),
    # frozen the same way: a case evaluates the tables of its version. Empty for versions
    # deployed before tables were frozen; those read DMN_DIRS.
    decisions = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("process definition")
        verbose_name_plural = _("process definitions")
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="definition_key_version_unique")
        ]
        ordering = ["key", "-version"]
        # Object permission (django-guardian) on one deployed version: who may start it.
        permissions = [("start_processdefinition", _("Can start instances of this procedure"))]

    def __str__(self) -> str:
        return f"{self.name} ({self.key} v{self.version})"


class InstanceState(models.TextChoices):
    RUNNING = "running", _("running")
    WAITING = "waiting", _("waiting")
    SUSPENDED = "suspended", _("suspended")
    INCIDENT = "incident", _("incident")
    COMPLETED = "completed", _("completed")
    TERMINATED = "terminated", _("terminated")


ACTIVE_STATES = [InstanceState.RUNNING, InstanceState.WAITING]
_LIVE = [InstanceState.RUNNING, InstanceState.WAITING, InstanceState.INCIDENT]


class ProcessInstance(FSMModelMixin, models.Model):
    """A running case of a procedure, holding SpiffWorkflow's serialized state."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    definition = models.ForeignKey(
        ProcessDefinition, on_delete=models.PROTECT, related_name="instances"
    )
    business_key = models.CharField(_("business key"), max_length=200, blank=True, db_index=True)
    scope = models.CharField(_("org unit"), max_length=64, blank=True)
    # The org unit's scope path (see scopes.py), so "cases in my units" is one indexed prefix match.
    scope_path = models.CharField(max_length=160, blank=True, db_index=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    state = FSMField(
        _("state"), default=InstanceState.RUNNING, choices=InstanceState.choices, protected=True
    )
    suspended_from = models.CharField(max_length=20, blank=True)
    serialized_state = models.TextField()
    variables = models.JSONField(_("variables"), default=dict)
    task_id_counter = models.PositiveIntegerField(default=0)
    audit_sequence = models.PositiveIntegerField(default=0)
    audit_head = models.CharField(max_length=64, blank=True)
    incident_message = models.TextField(blank=True)
    incident_element = models.CharField(max_length=200, blank=True)
    incident_detail = models.TextField(blank=True)
    end_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("process instance")
        verbose_name_plural = _("process instances")
        indexes = [models.Index(fields=["state", "definition"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.definition.key} {self.business_key}".strip()

    @property
    def is_finished(self) -> bool:
        return self.state in (InstanceState.COMPLETED, InstanceState.TERMINATED)

    # --- lifecycle (django-fsm); services call these under the instance row lock ---
    @transition(
        field=state,
        source=[InstanceState.RUNNING, InstanceState.WAITING],
        target=InstanceState.RUNNING,
    )
    def mark_running(self) -> None:
        pass

    @transition(
        field=state,
        source=[InstanceState.RUNNING, InstanceState.WAITING],
        target=InstanceState.WAITING,
    )
    def mark_waiting(self) -> None:
        pass

    @transition(
        field=state,
        source=[InstanceState.RUNNING, InstanceState.WAITING],
        target=InstanceState.COMPLETED,
    )
    def mark_completed(self) -> None:
        self.ended_at = timezone.now()

    @transition(field=state, source=_LIVE, target=InstanceState.INCIDENT)
    def raise_incident(self, *, message: str, element: str, detail: str) -> None:
        self.incident_message = message
        self.incident_element = element
        self.incident_detail = detail

    @transition(field=state, source=InstanceState.INCIDENT, target=InstanceState.RUNNING)
    def resolve_incident(self) -> None:
        self.incident_message = self.incident_element = self.incident_detail = ""

    @transition(field=state, source=_LIVE, target=InstanceState.SUSPENDED)
    def suspend(self) -> None:
        self.suspended_from = self.state

    @transition(field=state, source=InstanceState.SUSPENDED, target=RETURN_VALUE(*_LIVE))
    def resume(self) -> str:
        previous, self.suspended_from = self.suspended_from, ""
        return previous or InstanceState.RUNNING

    @transition(
        field=state, source=[*_LIVE, InstanceState.SUSPENDED], target=InstanceState.TERMINATED
    )
    def terminate(self, *, reason: str) -> None:
        self.end_reason = reason
        self.ended_at = timezone.now()


class HumanTaskState(models.TextChoices):
    OPEN = "open", _("open")
    COMPLETED = "completed", _("completed")
    CANCELLED = "cancelled", _("cancelled")


class HumanTask(models.Model):
    """A READY user task, mirrored from the engine so the inbox is one indexed query."""

    instance = models.ForeignKey(
        ProcessInstance, on_delete=models.CASCADE, related_name="human_tasks"
    )
    task_id = models.UUIDField(_("engine task id"))
    element_id = models.CharField(_("element"), max_length=200)
    name = models.CharField(_("name"), max_length=300)
    process_key = models.CharField(max_length=200, db_index=True)
    lane = models.CharField(_("lane"), max_length=200, blank=True)
    candidate_roles = models.JSONField(_("candidate roles"), default=list)
    candidate_users = models.JSONField(_("candidate users"), default=list)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    scope = models.CharField(_("org unit"), max_length=64, blank=True)
    scope_path = models.CharField(max_length=128, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    follow_up_at = models.DateTimeField(_("follow up"), null=True, blank=True)
    form_key = models.CharField(_("form"), max_length=200, blank=True)
    state = models.CharField(
        max_length=16, choices=HumanTaskState.choices, default=HumanTaskState.OPEN
    )
    draft_data = models.JSONField(default=dict, blank=True)
    completed_data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    remind_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalation_role = models.CharField(max_length=64, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)  # the inbox flags these

    class Meta:
        verbose_name = _("human task")
        verbose_name_plural = _("human tasks")
        constraints = [
            models.UniqueConstraint(
                fields=["instance", "task_id"], name="human_task_engine_id_unique"
            )
        ]
        indexes = [
            models.Index(fields=["state", "scope_path"]),
            models.Index(fields=["state", "assignee"]),
            models.Index(fields=["state", "due_at"]),
            models.Index(fields=["state", "remind_at"]),
            # The inbox filters by scope-path prefix (LIKE 'path%'); PostgreSQL uses a btree for
            # that only with the pattern operator class (other databases ignore it).
            models.Index(
                fields=["state", "scope_path"],
                name="human_task_scope_prefix",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (#{self.instance_id})"


class TaskCandidate(models.Model):
    """One role or user that may claim an open task; lets the inbox filter by index, not JSON."""

    task = models.ForeignKey(HumanTask, on_delete=models.CASCADE, related_name="candidates")
    role = models.CharField(max_length=64, blank=True)
    username = models.CharField(max_length=150, blank=True)

    class Meta:
        indexes = [models.Index(fields=["role", "task"]), models.Index(fields=["username", "task"])]

    def __str__(self) -> str:
        return self.role or self.username


class AuditKind(models.TextChoices):
    DEFINITION_DEPLOYED = "definition_deployed", _("definition deployed")
    ROLE_GRANTED = "role_granted", _("role granted")
    INSTANCE_STARTED = "instance_started", _("instance started")
    TASK_CLAIMED = "task_claimed", _("task claimed")
    TASK_UNCLAIMED = "task_unclaimed", _("task unclaimed")
    TASK_COMPLETED = "task_completed", _("task completed")
    INCIDENT_RAISED = "incident_raised", _("incident raised")
    INCIDENT_RESOLVED = "incident_resolved", _("incident resolved")
    INSTANCE_SUSPENDED = "instance_suspended", _("instance suspended")
    INSTANCE_RESUMED = "instance_resumed", _("instance resumed")
    INSTANCE_TERMINATED = "instance_terminated", _("instance terminated")
    INSTANCE_COMPLETED = "instance_completed", _("instance completed")
    TIMER_FIRED = "timer_fired", _("timer fired")
    JOB_COMPLETED = "job_completed", _("job completed")
    JOB_FAILED = "job_failed", _("job failed")
    EVENT_RECEIVED = "event_received", _("message or signal received")
    TASK_ESCALATED = "task_escalated", _("task escalated")
    DOCUMENT_ATTACHED = "document_attached", _("document attached")
    RECORD_CHANGED = "record_changed", _("record changed")
    SENSITIVE_VIEWED = "sensitive_viewed", _("sensitive data viewed")
    INSTANCE_MIGRATED = "instance_migrated", _("instance moved to another version")


class AuditEvent(models.Model):
    """One link of a hash chain. A chain per instance (``stream`` = ``instance:<id>``), and one
    ``system`` chain for deploys and grants. Written in the same transaction as the change; never
    updated or deleted."""

    stream = models.CharField(max_length=64)
    sequence = models.PositiveIntegerField()
    instance = models.ForeignKey(
        ProcessInstance,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
    )
    created_at = models.DateTimeField()
    actor = models.CharField(max_length=150, blank=True)
    kind = models.CharField(max_length=40, choices=AuditKind.choices)
    task_id = models.CharField(max_length=36, blank=True)
    element_id = models.CharField(max_length=200, blank=True)
    payload = models.JSONField(default=dict)
    previous_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        constraints = [
            models.UniqueConstraint(
                fields=["stream", "sequence"], name="audit_stream_sequence_unique"
            )
        ]
        ordering = ["stream", "sequence"]

    def __str__(self) -> str:
        return f"{self.stream}#{self.sequence} {self.kind}"


class AuditHead(models.Model):
    """The last hash of a chain that has no instance row to keep it (the ``system`` chain)."""

    stream = models.CharField(max_length=64, unique=True)
    sequence = models.PositiveIntegerField(default=0)
    head = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"{self.stream}@{self.sequence}"


class RoleGrant(models.Model):
    """A user holds a role, everywhere (blank scope) or within an org unit and below.

    The default scope resolver reads these; registry/ may replace the resolver."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_grants"
    )
    role = models.CharField(_("role"), max_length=64)
    scope = models.CharField(_("org unit"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "scope"], name="role_grant_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role} @ {self.scope or '*'}"


class JobState(models.TextChoices):
    PENDING = "pending", _("pending")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")
    CANCELLED = "cancelled", _("cancelled")


class JobKind(models.TextChoices):
    SERVICE_TASK = "service_task", _("service task")
    DELIVER_EVENT = "deliver_event", _("deliver message or signal")


class Job(models.Model):
    """Background work, written in the same transaction as the state that needs it.

    Celery delivers it promptly; the sweep finds anything missed. A worker claims it with
    ``select_for_update(skip_locked=True)``, so two workers never run it at once."""

    kind = models.CharField(max_length=20, choices=JobKind.choices, default=JobKind.SERVICE_TASK)
    instance = models.ForeignKey(
        ProcessInstance, null=True, blank=True, on_delete=models.CASCADE, related_name="jobs"
    )
    task_id = models.UUIDField(null=True, blank=True)
    element_id = models.CharField(max_length=200, blank=True)
    topic = models.CharField(_("handler"), max_length=200, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=12, choices=JobState.choices, default=JobState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=3)
    run_after = models.DateTimeField(default=timezone.now)
    locked_at = models.DateTimeField(null=True, blank=True)
    locked_by = models.CharField(max_length=200, blank=True)
    result = models.JSONField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_traceback = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        indexes = [models.Index(fields=["state", "run_after"])]

    def __str__(self) -> str:
        return f"job {self.pk} {self.topic or self.kind} ({self.state})"


class TimerState(models.TextChoices):
    WAITING = "waiting", _("waiting")
    FIRED = "fired", _("fired")
    CANCELLED = "cancelled", _("cancelled")


class Timer(models.Model):
    """A moment something must happen: a waiting timer event of an instance, or the next
    automatic start of a definition (timer start event)."""

    instance = models.ForeignKey(
        ProcessInstance, null=True, blank=True, on_delete=models.CASCADE, related_name="timers"
    )
    definition = models.ForeignKey(
        ProcessDefinition, null=True, blank=True, on_delete=models.CASCADE, related_name="timers"
    )
    task_id = models.CharField(max_length=36, blank=True)
    element_id = models.CharField(max_length=200, blank=True)
    fire_at = models.DateTimeField(_("fires at"))
    state = models.CharField(max_length=12, choices=TimerState.choices, default=TimerState.WAITING)
    fired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("timer")
        verbose_name_plural = _("timers")
        indexes = [models.Index(fields=["state", "fire_at"])]

    def __str__(self) -> str:
        return f"timer {self.element_id} at {self.fire_at:%Y-%m-%d %H:%M}"


class Subscription(models.Model):
    """Someone waits for a message or signal: a waiting catch event of an instance, or a
    definition's message start event."""

    KIND_MESSAGE, KIND_SIGNAL = "message", "signal"

    instance = models.ForeignKey(
        ProcessInstance,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="subscriptions",
    )
    definition = models.ForeignKey(
        ProcessDefinition, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=10)
    name = models.CharField(max_length=200)
    correlation_key = models.CharField(max_length=200, blank=True)
    task_id = models.CharField(max_length=36, blank=True)
    element_id = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "name", "correlation_key"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.name} [{self.correlation_key}]"


class NotificationState(models.TextChoices):
    PENDING = "pending", _("pending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")


class Notification(models.Model):
    """An SMS or e-mail in the outbox; sent by a pluggable backend, retried when sending fails."""

    channel = models.CharField(max_length=10)  # "sms" | "email"
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    address = models.CharField(_("address"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("message"))
    reason = models.CharField(max_length=40, blank=True)
    instance = models.ForeignKey(
        ProcessInstance, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    task = models.ForeignKey(
        HumanTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(
        max_length=10, choices=NotificationState.choices, default=NotificationState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.channel} to {self.address or self.recipient_id}: {self.subject}"


class CalendarDay(models.Model):
    """A county's own exception to the national calendar: a working day or a day off."""

    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'班' if self.is_working_day else '休'} {self.note}"


def attachment_upload_to(attachment: Attachment, filename: str) -> str:
    # Stored under its checksum: the name a person chose never reaches the file system.
    return f"attachments/{attachment.sha256[:2]}/{attachment.sha256}"


class Attachment(models.Model):
    """A document attached to a case (材料): a scan or photo, kept with its SHA-256 checksum."""

    instance = models.ForeignKey(
        ProcessInstance, on_delete=models.PROTECT, related_name="attachments"
    )
    task = models.ForeignKey(
        HumanTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=attachment_upload_to, max_length=200)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        indexes = [models.Index(fields=["instance", "uploaded_at"])]

    def __str__(self) -> str:
        return f"{self.filename} (#{self.instance_id})"


class AuditVerification(models.Model):
    """One run of the scheduled check of every audit chain, and what it found."""

    ran_at = models.DateTimeField(_("ran at"), default=timezone.now)
    events_checked = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)
    breaks = models.JSONField(default=list, blank=True)
    instances_replayed = models.PositiveIntegerField(default=0)
    # [{"instance", "sequence", "message"}]: cases whose re-execution differs from their state.
    replay_mismatches = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("audit verification")
        verbose_name_plural = _("audit verifications")
        ordering = ["-ran_at"]

    def __str__(self) -> str:
        return f"{self.ran_at:%Y-%m-%d %H:%M} {'OK' if self.intact else 'BROKEN'}"

    @property
    def intact(self) -> bool:
        return not self.breaks and not self.replay_mismatches


class Procedure(models.Model):
    """A procedure across its versions (one BPMN process id): what its process owners hold the
    django-guardian permission ``deploy_procedure`` on, and what its shared draft belongs to."""

    key = models.CharField(_("key"), max_length=200, unique=True)
    name = models.CharField(_("name"), max_length=300)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("procedure")
        verbose_name_plural = _("procedures")
        ordering = ["key"]
        permissions = [("deploy_procedure", _("Can deploy new versions of this procedure"))]

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"


class ProcessDraft(models.Model):
    """The work in progress on a procedure, shared by its owners: saved without deploying.

    ``revision`` counts saves; a save names the revision it was edited from, so two owners
    saving the same draft cannot overwrite each other (the second is told)."""

    procedure = models.OneToOneField(Procedure, on_delete=models.CASCADE, related_name="draft")
    bpmn_xml = models.TextField(_("BPMN XML"))
    forms = models.JSONField(default=dict, blank=True)  # form name → form-js schema
    decisions = models.JSONField(default=dict, blank=True)  # decision id → DMN XML
    revision = models.PositiveIntegerField(default=1)
    based_on = models.ForeignKey(
        ProcessDefinition, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("draft")
        verbose_name_plural = _("drafts")

    def __str__(self) -> str:
        return f"{self.procedure.key} draft r{self.revision}"
