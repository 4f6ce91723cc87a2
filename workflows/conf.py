"""The host's own settings, namespaced under ``WORKFLOWS`` with defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "ROLES": {},
    "LANE_ROLES": {},
    "SCOPE_RESOLVER": "workflows.scopes.GrantScopeResolver",
    "MAX_BPMN_BYTES": 5 * 1024 * 1024,
    "SCRIPT_TIME_LIMIT_SECONDS": 1.0,
    # What one operation of diagram code may build or walk (str, ==, * ...), counted in items
    # with a shared part counted every time it appears; and how much memory the process may
    # grow by while one piece of diagram code runs.
    "SCRIPT_MAX_ITEMS": 1_000_000,
    "SCRIPT_MEMORY_LIMIT_MB": 256,
    # A case's data as saved: the variables one step carries, and the whole engine state.
    "MAX_CASE_DATA_BYTES": 2 * 1024 * 1024,
    "MAX_CASE_STATE_BYTES": 64 * 1024 * 1024,
    # Lists and dicts within each other: past about 1,000 levels json.dumps fails.
    "MAX_CASE_DATA_DEPTH": 100,
    "FORM_DIRS": [],
    # Folders of DMN decision tables (*.dmn) that business rule tasks name by decision id.
    "DMN_DIRS": [],
    "HANDLER_MODULES": [],
    "DEPLOYER_ROLE": "process_owner",
    "OPERATOR_ROLE": "process_owner",
    "READ_ALL_ROLES": [],
    # Who may open the audit area: search, replay, history exports, verification.
    "AUDIT_ROLES": ["auditor"],
    # Roles that only audit: they get no inbox, no casework menus.
    "AUDIT_ONLY_ROLES": ["auditor"],
    "PROCESS_DIRS": [],
    # "celery": hand jobs to Celery on commit; "poll": the embedded runner sweeps the tables;
    # "immediate": run them in-process right after commit (tests, one-off scripts).
    "JOB_DISPATCH": "poll",
    "JOB_LEASE_SECONDS": 300,
    "SWEEP_INTERVAL_SECONDS": 30,
    "REMINDER_BEFORE": "P1D",
    "ESCALATION_ROLE": "",
    "NOTIFICATION_BACKENDS": {
        "email": "workflows.notifications.ConsoleBackend",
        "sms": "workflows.notifications.ConsoleBackend",
    },
    "NOTIFICATION_MAX_ATTEMPTS": 5,
    "HOLIDAY_COUNTRY": "CN",
}


def get(name: str) -> Any:
    return {**DEFAULTS, **getattr(settings, "WORKFLOWS", {})}[name]


def form_dirs() -> list[Path]:
    return [Path(p) for p in get("FORM_DIRS")]


def dmn_dirs() -> list[Path]:
    return [Path(p) for p in get("DMN_DIRS")]
