"""Checking one data row on its own (no database): cleaned values and a list of problems."""

from __future__ import annotations

import re
from datetime import date, datetime

from django.utils.translation import gettext

from ..identity import (
    MULTIPLE,
    IdentityError,
    category_parse,
    certificate_number_mismatches,
    certificate_number_parse,
    citizen_id_parse,
    grade_parse,
    included_categories_parse,
    normalise,
)
from ..models import LowIncomeStatus
from .columns import BY_KEY, CERTIFICATE_KEYS, COLUMNS

LOW_INCOME_WORDS = {
    "": LowIncomeStatus.NONE,
    "无": LowIncomeStatus.NONE,
    "否": LowIncomeStatus.NONE,
    "低保": LowIncomeStatus.DIBAO,
    "最低生活保障": LowIncomeStatus.DIBAO,
    "特困": LowIncomeStatus.TEKUN,
    "特困供养": LowIncomeStatus.TEKUN,
    **{s.value: s.value for s in LowIncomeStatus},
}
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


class RowProblems:
    def __init__(self):
        self.items: list[dict] = []

    def add(self, key: str, message: str) -> None:
        self.items.append({"column": BY_KEY[key].header, "message": message})


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_date(value) -> date | None:
    """An Excel date cell, or 2020-05-01, 2020/5/1, 2020.5.1, 2020年5月1日, 20200501."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = normalise(value)
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    match = _DATE.match(text)
    if match is None:
        raise ValueError(
            gettext("'%(value)s' is not a date: write it as 2024-05-01") % {"value": value}
        )
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise ValueError(gettext("'%(value)s' is not a real date") % {"value": value}) from None


def _date_field(values: dict, key: str, problems: RowProblems, today: date) -> str | None:
    try:
        day = parse_date(values[key])
    except ValueError as exc:
        problems.add(key, str(exc))
        return None
    if day is not None and day > today:
        problems.add(key, gettext("%(day)s is in the future.") % {"day": day.isoformat()})
        return None
    return day.isoformat() if day else None


def _citizen_id(value, problems: RowProblems, today: date) -> dict:
    if isinstance(value, int | float) and not isinstance(value, bool):
        problems.add(
            "citizen_id",
            f"the ID was stored as a number ({int(value)}) and has lost digits: format the "
            "column as text in Excel and enter the IDs again",
        )
        return {}
    try:
        parsed = citizen_id_parse(value, today=today)
    except IdentityError as exc:
        problems.add("citizen_id", exc.message)
        return {"citizen_id": normalise(value)}
    return {
        "citizen_id": parsed.number,
        "birth_date": parsed.birth_date.isoformat(),
        "sex": parsed.sex,
    }


def _person_fields(values: dict, problems: RowProblems, today: date) -> dict:
    data = {"name": _text(values["name"])}
    if not data["name"]:
        problems.add("name", gettext("The name is empty."))
    elif len(data["name"]) > 50:
        problems.add("name", gettext("The name is longer than 50 characters."))
    code = normalise(_text(values["household_code"]))
    data["household_code"] = code
    if not re.fullmatch(r"\d{12}", code):
        problems.add(
            "household_code",
            gettext("“%(code)s” is not a 12-digit village or community code.") % {"code": code},
        )
    phone = normalise(_text(values["phone"]))
    if phone and not re.fullmatch(r"[0-9+\-]{5,20}", phone):
        problems.add(
            "phone", gettext("“%(value)s” is not a phone number.") % {"value": values["phone"]}
        )
    data["phone"] = phone
    word = normalise(_text(values["low_income_status"]))
    status = LOW_INCOME_WORDS.get(word) or LOW_INCOME_WORDS.get(word.lower())
    if status is None:
        problems.add(
            "low_income_status",
            gettext("“%(value)s” is not a low-income status: write 低保, 特困 or 无.")
            % {"value": word},
        )
    data["low_income_status"] = status or LowIncomeStatus.NONE
    for key in ("low_income_since", "low_income_until", "deceased_on", "moved_out_on"):
        data[key] = _date_field(values, key, problems, today)
    since, until = data["low_income_since"], data["low_income_until"]
    if since and until and until < since:
        problems.add(
            "low_income_until",
            gettext("The low-income status ends (%(until)s) before it starts (%(since)s).")
            % {"until": until, "since": since},
        )
    if data["low_income_status"] == LowIncomeStatus.NONE and (since or until):
        problems.add(
            "low_income_status",
            gettext("Low-income dates are given but no status: write 低保 or 特困."),
        )
    return data


def _certificate_kind(values: dict, problems: RowProblems) -> dict:
    """Category, grade and (for 多重) the included categories."""
    data: dict = {"category": None, "grade": None}
    for key, parse in (("category", category_parse), ("grade", grade_parse)):
        if values[key]:
            try:
                data[key] = parse(values[key])
            except IdentityError as exc:
                problems.add(key, exc.message)
    try:
        included = included_categories_parse(values["included_categories"])
    except IdentityError as exc:
        problems.add("included_categories", exc.message)
        included = []
    if data["category"] == MULTIPLE and len(included) < 2:
        problems.add(
            "included_categories",
            gettext("A multiple-disability certificate names two or more categories."),
        )
    if data["category"] not in (None, MULTIPLE) and included:
        problems.add(
            "included_categories",
            gettext("Only a multiple-disability certificate includes other categories."),
        )
    data["included_categories"] = "".join(str(c) for c in included)
    return data


def _certificate_fields(values: dict, citizen_id: str, problems: RowProblems, today: date) -> dict:
    if all(values[key] in (None, "") for key in CERTIFICATE_KEYS):
        return {"certificate_number": ""}
    for key in ("certificate_number", "category", "grade", "issued_on"):
        if values[key] in (None, ""):
            problems.add(key, gettext("Empty, but other certificate columns are filled in."))
    data = _certificate_kind(values, problems)
    data["issued_on"] = _date_field(values, "issued_on", problems, today)
    data["certificate_number"] = normalise(values["certificate_number"])
    if not values["certificate_number"] or not citizen_id:
        return data  # with a bad ID, the number is checked once the ID is right
    try:
        number = certificate_number_parse(values["certificate_number"])
    except IdentityError as exc:
        problems.add("certificate_number", exc.message)
        return data
    data["certificate_number"] = number.number
    if data["category"] and data["grade"]:
        for message in certificate_number_mismatches(
            number, citizen_id=citizen_id, category=data["category"], grade=data["grade"]
        ):
            problems.add("certificate_number", message)
    return data


def row_clean(cells: list, positions: dict[str, int], *, today: date) -> tuple[dict, list[dict]]:
    """The row's cleaned values (JSON-ready) and its problems ([] when it can be imported)."""
    values = {}
    for column in COLUMNS:
        index = positions[column.header]
        values[column.key] = cells[index] if index < len(cells) else None
    problems = RowProblems()
    data = _citizen_id(values["citizen_id"], problems, today)
    data |= _person_fields(values, problems, today)
    valid_id = data["citizen_id"] if "birth_date" in data else ""
    data |= _certificate_fields(values, valid_id, problems, today)
    return data, problems.items


def row_is_empty(cells: list) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)
