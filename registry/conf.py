"""The registry's own settings, namespaced under ``REGISTRY`` with defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Roles that read persons and certificates of the units their memberships reach.
    "READ_ROLES": [
        "county_staff",
        "township_staff",
        "village_officer",
        "finance",
        "petition_office",
    ],
    # Roles that change persons (phone, low-income status, card account) within their reach.
    "WRITE_ROLES": ["county_staff", "township_staff", "village_officer"],
    # Roles that issue, reissue, renew and cancel certificates, and import from Excel/CSV.
    "CERTIFICATE_ROLES": ["county_staff"],
    "IMPORT_ROLES": ["county_staff"],
    # Institutions' roles: they see only persons whose cases are assigned to their institution.
    "ASSIGNED_ROLES": ["assessor", "provider"],
    # Who may see a full citizen ID / card number (each full view is recorded).
    "FULL_ID_ROLES": [
        "county_staff",
        "township_staff",
        "village_officer",
        "assessor",
        "provider",
        "auditor",
    ],
    "FULL_CARD_ROLES": ["county_staff", "finance"],
    # Where a role may be held: org-unit levels (county, township, village, institution) or
    # institution kinds. A role missing here may be held anywhere; "everywhere" is always allowed.
    "ROLE_UNIT_KINDS": {
        "county_staff": ["county"],
        "township_staff": ["township"],
        "village_officer": ["village"],
        "finance": ["county", "finance_bureau"],
        "assessor": ["assessment", "hospital"],
        "provider": ["service", "hospital"],
        "petition_office": ["county", "township"],
    },
    "CERTIFICATE_VALID_YEARS": 10,
    "EXPIRING_DAYS": 90,
    # How an upload is checked and committed: "thread" (embedded default), "inline" (in the
    # request; tests), or "celery" (registry.tasks.import_run on the project's Celery app).
    "IMPORT_RUNNER": "thread",
    "IMPORT_DIR": None,  # default: <VAR_DIR>/imports
    "IMPORT_MAX_BYTES": 64 * 1024 * 1024,
    # An .xlsx is a ZIP archive: its limits as unpacked, checked before openpyxl opens it.
    # A 50,000-person list unpacks to about 40 MB; ordinary sheets compress 5 to 20 times.
    "IMPORT_MAX_UNCOMPRESSED_BYTES": 256 * 1024 * 1024,
    "IMPORT_MAX_COMPRESSION_RATIO": 100,
    # Excel itself keeps at most 32,767 characters in a cell; rows include the header row.
    "IMPORT_MAX_CELL_CHARS": 32_767,
    "IMPORT_MAX_ROWS": 200_000,
    "IMPORT_CHUNK_ROWS": 1000,
}


def get(name: str) -> Any:
    return {**DEFAULTS, **getattr(settings, "REGISTRY", {})}[name]


def import_dir() -> Path:
    configured = get("IMPORT_DIR")
    path = Path(configured) if configured else Path(settings.VAR_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path
