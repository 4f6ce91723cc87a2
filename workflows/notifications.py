"""Notification backends: how an outbox row leaves the building.

A backend has ``send(notification) -> None`` and raises on failure (the row is retried).
Development uses the console and file backends; production plugs in an SMS gateway or SMTP
(``EmailBackend`` uses Django's e-mail settings).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from django.conf import settings
from django.core.mail import send_mail

logger = logging.getLogger("fuzhu.notifications")


class ConsoleBackend:
    def send(self, notification) -> None:
        logger.warning(
            "[%s to %s] %s: %s",
            notification.channel,
            notification.address or notification.recipient_id,
            notification.subject,
            notification.body,
        )


class FileBackend:
    """Appends each message as one JSON line to ``var/outbox/<channel>.jsonl``."""

    def send(self, notification) -> None:
        folder = Path(getattr(settings, "VAR_DIR", ".")) / "outbox"
        folder.mkdir(parents=True, exist_ok=True)
        line = {
            "id": notification.pk,
            "to": notification.address or notification.recipient_id,
            "subject": notification.subject,
            "body": notification.body,
            "reason": notification.reason,
        }
        with (folder / f"{notification.channel}.jsonl").open("a", encoding="utf-8") as out:
            out.write(json.dumps(line, ensure_ascii=False) + "\n")


class EmailBackend:
    def send(self, notification) -> None:
        address = notification.address or getattr(notification.recipient, "email", "")
        if not address:
            raise ValueError("the recipient has no e-mail address")
        send_mail(notification.subject, notification.body, None, [address])
