"""The assistive-device procedure's settings (``PROCESSES["DEVICES"]``): counties differ.

Defaults from the county's interim rules for basic assistive devices and the children's
rehabilitation assistance standard: a child is under 18 (by the citizen ID's birth date on the
day of application) and may receive at most 62,500 yuan of device subsidies a year, counted
across all their applications approved in that year; the institution visits 30 days after the
person accepted the device."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

DEFAULTS = {
    "CHILD_AGE": 18,
    "CHILD_YEARLY_CAP": "62500.00",
    "FOLLOW_UP_DAYS": 30,
    # Working days each step has, counted from when it became ready (the diagram's dueDate of
    # each task is ``${<step>_due}``); fitting and refitting have 30 calendar days (P30D).
    "DUE_WORKING_DAYS": {
        "initial_check": 5,
        "second_check": 5,
        "assign_assessment": 5,
        "record_assessment": 15,
        "approve_plan": 5,
        "choose_provider": 5,
        "confirm_acceptance": 5,
        "confirm_refit": 5,
        "follow_up_visit": 10,
    },
    # Who registers applications for a person, and who decides at the county.
    "REGISTER_ROLES": ["village_officer", "township_staff"],
    "COUNTY_ROLE": "county_staff",
    # Who sees settlement statements besides the institution's own providers.
    "SETTLEMENT_ROLES": ["county_staff", "finance"],
}


def get(name: str):
    return {**DEFAULTS, **getattr(settings, "PROCESSES", {}).get("DEVICES", {})}[name]


def child_yearly_cap() -> Decimal:
    return Decimal(str(get("CHILD_YEARLY_CAP")))
