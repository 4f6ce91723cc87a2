"""The medication subsidy's settings (``PROCESSES["MEDICATION"]``): counties differ.

``AMOUNT`` and ``RULES`` are the defaults a new cycle starts with; a process owner may change
them for one cycle until its data comparison has run (the cycle keeps its own snapshot).
Deadlines are month-day of the cycle's year; a cycle started after one of them gets the
fallback number of days from its start instead."""

from __future__ import annotations

from django.conf import settings

DEFAULTS = {
    "AMOUNT": "1000.00",
    "RULES": {
        # A 多重 (multiple) certificate that includes 精神 counts as psychiatric.
        "include_multiple": True,
        # Low-income statuses that qualify (低保, 特困).
        "low_income_statuses": ["dibao", "tekun"],
        # Support schemes whose members are excluded: "tekun" (特困供养), "publicly_funded".
        "excluded_schemes": ["publicly_funded"],
    },
    "SURVEY_DUE": "03-15",
    "COMPARISON_DUE": "03-31",
    "REVIEW_DUE": "04-20",
    "FALLBACK_DAYS": {"SURVEY_DUE": 30, "COMPARISON_DUE": 45, "REVIEW_DUE": 75},
    "MEMO": "{year}年困难精神残疾人药费补助",
    # The county a timer-started cycle belongs to; "" = the one county in the registry.
    "COUNTY": "",
    "START_ROLE": "county_staff",
    "RULES_ROLE": "process_owner",
    "REVIEW_ROLE": "township_staff",
    "APPROVAL_ROLE": "county_staff",
    "FINANCE_ROLE": "finance",
}


def get(name: str):
    return {**DEFAULTS, **getattr(settings, "PROCESSES", {}).get("MEDICATION", {})}[name]
