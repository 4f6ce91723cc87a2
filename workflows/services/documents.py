"""Documents attached to a case: scans and photos (PDF, JPEG, PNG), kept with a checksum."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import conf
from ..exceptions import InvalidInput, NotAllowed, NotFound
from ..models import Attachment, AuditKind, HumanTask, HumanTaskState, ProcessInstance
from .access import can_read_instance, can_work_task, user_has_role
from .audit import InstanceAuditLog
from .locking import lock_instance

# The first bytes of each accepted kind; the type is read from the content, never the name.
SIGNATURES = {
    b"%PDF-": ("application/pdf", ".pdf"),
    b"\xff\xd8\xff": ("image/jpeg", ".jpg"),
    b"\x89PNG\r\n\x1a\n": ("image/png", ".png"),
}
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


def attachment_max_bytes() -> int:
    return int(getattr(settings, "WORKFLOWS", {}).get("ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def sniff_type(head: bytes) -> str | None:
    for signature, (content_type, _suffix) in SIGNATURES.items():
        if head.startswith(signature):
            return content_type
    return None


def can_attach(user, instance: ProcessInstance) -> bool:
    """Whoever may work one of the case's open tasks, its starter, or a process owner."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser or instance.started_by_id == user.pk:
        return True
    if user_has_role(user, conf.get("OPERATOR_ROLE")):
        return True
    open_tasks = HumanTask.objects.filter(instance=instance, state=HumanTaskState.OPEN)
    return any(can_work_task(user, task) for task in open_tasks)


def document_attach(*, instance_id: int, user, upload, task_id: int | None = None) -> Attachment:
    """Store an uploaded file on the case. ``upload`` has ``name``, ``size`` and ``read()``.

    Refused (InvalidInput on ``file``) when it is empty, too large, or not a PDF/JPEG/PNG."""
    if upload is None:
        raise InvalidInput(_("Choose a file."), {"file": [_("Choose a file.")]})
    limit = attachment_max_bytes()
    if upload.size > limit:
        message = _("The file is %(size)s bytes; the limit is %(limit)s bytes.") % {
            "size": f"{upload.size:,}",
            "limit": f"{limit:,}",
        }
        raise InvalidInput(message, {"file": [message]})
    content = upload.read(limit + 1)
    if not content:
        raise InvalidInput(_("The file is empty."), {"file": [_("The file is empty.")]})
    if len(content) > limit:
        message = _("The file is larger than %(limit)s bytes.") % {"limit": f"{limit:,}"}
        raise InvalidInput(message, {"file": [message]})
    content_type = sniff_type(content[:16])
    if content_type is None:
        message = _("Only PDF, JPEG and PNG files can be attached.")
        raise InvalidInput(message, {"file": [message]})
    with transaction.atomic():
        instance = lock_instance(instance_id)
        if not can_read_instance(user, instance):
            raise NotFound(_("Case %(id)s does not exist.") % {"id": instance_id})
        if not can_attach(user, instance):
            raise NotAllowed(_("You may not add documents to this case."))
        task = None
        if task_id is not None:
            task = HumanTask.objects.filter(pk=task_id, instance=instance).first()
            if task is None:
                raise InvalidInput(_("No such task in this case."), {"task": [_("Not found.")]})
        now = timezone.now()
        attachment = Attachment(
            instance=instance,
            task=task,
            filename=(upload.name or "document").rsplit("/", 1)[-1][:255],
            content_type=content_type,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            uploaded_by=user,
            uploaded_at=now,
        )
        attachment.file.save(attachment.sha256, ContentFile(content), save=False)
        attachment.save()
        audit = InstanceAuditLog(instance)
        audit.append(
            actor=user,
            kind=AuditKind.DOCUMENT_ATTACHED,
            task_id=str(task.task_id) if task else "",
            element_id=task.element_id if task else "",
            at=now,
            payload={
                "attachment": attachment.pk,
                "filename": attachment.filename,
                "content_type": content_type,
                "size": attachment.size,
                "sha256": attachment.sha256,
            },
        )
        instance.save(update_fields=["audit_sequence", "audit_head"])
        audit.flush()
    return attachment


def document_for_user(*, attachment_id: int, user) -> Attachment:
    """The attachment, if the user may read its case; NotFound otherwise."""
    attachment = Attachment.objects.select_related("instance").filter(pk=attachment_id).first()
    if attachment is None or not can_read_instance(user, attachment.instance):
        raise NotFound(_("Document %(id)s does not exist.") % {"id": attachment_id})
    return attachment


def documents_of(instance: ProcessInstance):
    return (
        Attachment.objects.filter(instance=instance)
        .select_related("uploaded_by", "task")
        .order_by("uploaded_at", "pk")
    )
