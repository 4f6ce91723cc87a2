"""What every portal view shares: settings, JSON input, the pages for refused requests."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from workflows.exceptions import Conflict, IncidentRaised, NotAllowed, NotFound, WorkflowError


def portal_setting(name: str, default=None):
    return getattr(settings, "PORTAL", {}).get(name, default)


def posted_json(request, name: str = "data") -> dict:
    """A JSON object posted in a form field (the form-js data); {} when absent or broken."""
    try:
        value = json.loads(request.POST.get(name) or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def describe(exc: WorkflowError) -> str:
    """What went wrong in the user's language, with the service's own detail after it."""
    if isinstance(exc, IncidentRaised):
        headline = _("The step failed and the case now has an incident; your entries are kept.")
    elif isinstance(exc, Conflict):
        headline = _("This could not be done: the task or case has changed meanwhile.")
    elif isinstance(exc, NotAllowed):
        headline = _("You may not do this.")
    elif isinstance(exc, NotFound):
        headline = _("Not found.")
    else:
        headline = _("Please check your entries.")
    return f"{headline} ({exc.message})"


def flash_error(request, exc: WorkflowError) -> None:
    messages.error(request, describe(exc))


def refused(request, exc: WorkflowError, *, status: int | None = None):
    """A page for a request a service refused (403, 404, 409)."""
    return render(
        request, "portal/refused.html", {"message": describe(exc)}, status=status or exc.status
    )


def safe_next(request) -> str:
    """The ``next`` field of a POST, when it points back into this site ("" otherwise)."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return ""


def page_number(request) -> str:
    return request.GET.get("page") or "1"


def labelled_errors(schema: dict | None, errors: dict) -> list[tuple[str, list[str]]]:
    """Field errors with each field's label (its key when the form has no such field)."""
    from workflows.forms import form_fields

    labels = {f["_path"]: f.get("label") or f["_path"] for f in form_fields(schema or {})}
    return [(labels.get(path, path), messages) for path, messages in errors.items()]
