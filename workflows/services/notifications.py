"""The outbox: notifications are rows first, sent by a backend, retried when sending fails."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .. import conf
from ..models import Notification, NotificationState

logger = logging.getLogger(__name__)


def notification_queue(
    *,
    channel: str,
    body: str,
    subject: str = "",
    recipient=None,
    address: str = "",
    reason: str = "",
    instance=None,
    task=None,
) -> Notification:
    """Put a message in the outbox (in the caller's transaction); it is sent by the sweep."""
    if channel not in conf.get("NOTIFICATION_BACKENDS"):
        raise ValueError(f"unknown notification channel '{channel}'")
    if recipient is None and not address:
        raise ValueError("a notification needs a recipient or an address")
    return Notification.objects.create(
        channel=channel,
        recipient=recipient,
        address=address,
        subject=subject,
        body=body,
        reason=reason,
        instance=instance,
        task=task,
    )


def _backend(channel: str):
    return import_string(conf.get("NOTIFICATION_BACKENDS")[channel])()


def notifications_send_pending(*, limit: int = 200) -> int:
    """Send what is due; a failure is retried with backoff, then marked failed. Returns sent."""
    now = timezone.now()
    sent = 0
    ids = list(
        Notification.objects.filter(state=NotificationState.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        with transaction.atomic():
            row = (
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("recipient")
                .filter(pk=pk, state=NotificationState.PENDING)
                .first()
            )
            if row is None:
                continue
            row.attempts += 1
            try:
                _backend(row.channel).send(row)
            except Exception as exc:  # noqa: BLE001 - any backend failure is retried
                row.last_error = f"{type(exc).__name__}: {exc}"
                final = row.attempts >= conf.get("NOTIFICATION_MAX_ATTEMPTS")
                row.state = NotificationState.FAILED if final else NotificationState.PENDING
                row.next_attempt_at = now + timedelta(minutes=2**row.attempts)
                logger.warning("notification %s not sent: %s", pk, row.last_error)
            else:
                row.state, row.sent_at, row.last_error = NotificationState.SENT, now, ""
                sent += 1
            row.save()
    return sent
