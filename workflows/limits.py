"""The engine's limits, from ``WORKFLOWS``, and its messages, in the user's language.

The engine reads neither Django's settings nor its translations (it stays free of Django);
``install`` hands both over at start-up, and again whenever a test overrides ``WORKFLOWS``.
"""

from __future__ import annotations

from django.core.signals import setting_changed
from django.utils.translation import gettext

from . import conf
from .engine import i18n, runtime, sandbox


def install() -> None:
    i18n.install(gettext)
    _configure()
    setting_changed.connect(_settings_changed, dispatch_uid="workflows.limits")


def _configure() -> None:
    sandbox.configure(
        max_items=conf.get("SCRIPT_MAX_ITEMS"), memory_mb=conf.get("SCRIPT_MEMORY_LIMIT_MB")
    )
    runtime.configure(
        max_data_bytes=conf.get("MAX_CASE_DATA_BYTES"),
        max_state_bytes=conf.get("MAX_CASE_STATE_BYTES"),
        max_depth=conf.get("MAX_CASE_DATA_DEPTH"),
    )


def _settings_changed(setting, **kwargs) -> None:
    if setting == "WORKFLOWS":
        _configure()
