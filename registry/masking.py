"""The one way personal numbers are masked, on every page, list, report and export.

Lists, the inbox, search results, import reports, task pages and exports show a citizen ID as
``110105********002X``; only a person's page shows the full number, to the roles that need it,
behind one recorded click (``registry.services.persons.person_reveal``). Bank files are the one
exception: the bank needs the full account number, and only finance downloads them.

Rules (what a clerk needs to tell people apart without being able to misuse the number):
citizen ID, first 6 and last 4; certificate number, its ID part so, then category, grade and
reissue suffix; card account, the last 4; phone, first 3 and last 4.
"""

from __future__ import annotations

import re

CITIZEN_ID = "citizen_id"
CERTIFICATE = "certificate"
CARD = "card"
PHONE = "phone"
KINDS = (CITIZEN_ID, CERTIFICATE, CARD, PHONE)

# Numbers found in free text (case data, messages, report rows), most specific first. The
# look-arounds keep a match from starting or ending inside a longer code.
_EDGE_BEFORE, _EDGE_AFTER = r"(?<![0-9A-Za-z*])", r"(?![0-9A-Za-z])"
_PATTERNS = (
    (CERTIFICATE, r"\d{17}[\dXx][1-7][1-4](?:B\d+)?"),
    (CITIZEN_ID, r"\d{17}[\dXx]"),
    (CARD, r"\d{15,32}"),
    (PHONE, r"1[3-9]\d{9}"),
)
_FOUND = re.compile(
    "|".join(f"(?P<{kind}>{_EDGE_BEFORE}{pattern}{_EDGE_AFTER})" for kind, pattern in _PATTERNS)
)
# Data keys that hold a phone number whatever its shape (landlines, extensions).
_PHONE_KEY = re.compile(r"(^|_)(phone|mobile|tel)$")


def mask(value, kind: str) -> str:
    """``value`` masked by the rule of ``kind`` (one of ``KINDS``); empty stays empty."""
    number = "" if value is None else str(value).strip()
    if not number:
        return ""
    if kind == CITIZEN_ID:
        return number[:6] + "*" * (len(number) - 10) + number[-4:] if len(number) > 10 else "****"
    if kind == CERTIFICATE:
        return mask(number[:18], CITIZEN_ID) + number[18:] if len(number) >= 18 else "****"
    if kind == CARD:
        return "**** " + number[-4:] if len(number) > 4 else "****"
    if kind == PHONE:
        return number[:3] + "****" + number[-4:] if len(number) >= 8 else "****"
    raise ValueError(f"unknown kind of number to mask: {kind}")


def _looks_like_a_person(number: str) -> bool:
    """An 18-character number whose birth-date part could be one (1880–2099, month and day in
    range): a citizen ID, even with a wrong check digit; a credit code of digits is not one."""
    year, month, day = int(number[6:10]), int(number[10:12]), int(number[12:14])
    return 1880 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= 31


def _masked_match(match: re.Match) -> str:
    number, kind = match.group(0), match.lastgroup
    if kind in (CITIZEN_ID, CERTIFICATE) and not _looks_like_a_person(number):
        return number
    return mask(number, kind)


def mask_text(text: str) -> str:
    """Every citizen ID, certificate, card and mobile number in ``text``, masked."""
    if not isinstance(text, str) or not any(c.isdigit() for c in text):
        return text
    return _FOUND.sub(_masked_match, text)


def mask_data(value, key: str = ""):
    """A case's variables, a task's data, a report row: every string in it through
    ``mask_text``, and phone fields masked whatever their shape. A copy; ``value`` is kept."""
    if isinstance(value, dict):
        return {k: mask_data(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_data(item, key) for item in value]
    if isinstance(value, str):
        if key and _PHONE_KEY.search(key.lower()) and value.strip():
            return mask(value, PHONE)
        return mask_text(value)
    return value
