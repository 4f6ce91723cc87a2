"""One error shape for the API: ``{"detail": ..., "errors": [...]}`` with the right status."""

from __future__ import annotations

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ..exceptions import DeploymentRefused, InvalidInput, WorkflowError


def error_body(exc: WorkflowError) -> dict:
    body: dict = {"detail": exc.message}
    if isinstance(exc, DeploymentRefused):
        body["errors"] = [p.as_dict() for p in exc.problems]
    elif isinstance(exc, InvalidInput):
        body["errors"] = [
            {"field": name, "message": message}
            for name, messages in exc.fields.items()
            for message in messages
        ] or [{"field": None, "message": exc.message}]
    return body


def exception_handler(exc, context):
    if isinstance(exc, WorkflowError):
        return Response(error_body(exc), status=exc.status)
    return drf_exception_handler(exc, context)
