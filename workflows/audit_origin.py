"""Where the change being recorded came from: the channel (portal, API, admin, a command, the
job runner) and the client's address. Set once at the door (middleware, command, job runner);
every audit event appended meanwhile carries it inside its hashed payload as ``_origin``."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

ORIGIN_KEY = "_origin"

_origin: contextvars.ContextVar[dict | None] = contextvars.ContextVar("audit_origin", default=None)


@contextlib.contextmanager
def audit_origin(channel: str, ip: str = "") -> Iterator[None]:
    token = _origin.set({"channel": channel, **({"ip": ip} if ip else {})})
    try:
        yield
    finally:
        _origin.reset(token)


def current_origin() -> dict | None:
    return _origin.get()


def with_origin(payload: dict) -> dict:
    """``payload`` with the current origin added (unchanged outside any door)."""
    origin = _origin.get()
    if origin is None or ORIGIN_KEY in payload:
        return payload
    return {**payload, ORIGIN_KEY: origin}


def channel_of_path(path: str) -> str:
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/admin/"):
        return "admin"
    return "portal"


class AuditOriginMiddleware:
    """Records each request's channel and client address for the audit events it causes.

    REMOTE_ADDR is the address of whoever connected; behind a reverse proxy that is the proxy,
    so the deployment sets ``FUZHU_TRUSTED_PROXIES`` and the proxy's X-Forwarded-For is used."""

    def __init__(self, get_response):
        from django.conf import settings

        self.get_response = get_response
        self.trusted_proxies = set(getattr(settings, "TRUSTED_PROXIES", ()))

    def client_ip(self, request) -> str:
        remote = request.META.get("REMOTE_ADDR", "")
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if remote in self.trusted_proxies and forwarded:
            return forwarded.split(",")[-1].strip()[:45]
        return remote[:45]

    def __call__(self, request):
        with audit_origin(channel_of_path(request.path), self.client_ip(request)):
            return self.get_response(request)
