"""The statutory limits, as settings (``PROCESSES["PETITIONS"]``): counties may differ.

Defaults from the State Council petition regulations: accept within 15 days, object within
5 working days, reply within 60 days of acceptance with one extension of up to 30 days,
review and re-review asked within 30 days and answered within 30 days."""

from __future__ import annotations

from django.conf import settings

DEFAULTS = {
    "ACCEPT_DAYS": 15,
    "OBJECTION_WORKING_DAYS": 5,
    "REPLY_DAYS": 60,
    "EXTENSION_MAX_DAYS": 30,
    "REVIEW_REQUEST_DAYS": 30,
    "REVIEW_ANSWER_DAYS": 30,
    "REMINDER": "3WD",
    "SUPERVISOR_ROLE": "petition_office",
}


def get(name: str):
    return {**DEFAULTS, **getattr(settings, "PROCESSES", {}).get("PETITIONS", {})}[name]
