"""Citizen IDs (GB 11643-1999) and disability certificate numbers (second generation, 2018).

Pure functions: no database. Every refusal is an ``IdentityError`` whose message says what is
wrong in words a county clerk can act on.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from django.utils import timezone

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
# GB/T 2260 provinces (and Taiwan, Hong Kong, Macao), the first two digits of every area code.
_PROVINCE_DIGITS = "11121314152122233132333435363741424344454650515253546162636465718182"
PROVINCES = frozenset(_PROVINCE_DIGITS[i : i + 2] for i in range(0, len(_PROVINCE_DIGITS), 2))
EARLIEST_BIRTH_YEAR = 1880

CATEGORY_NAMES = {1: "视力", 2: "听力", 3: "言语", 4: "肢体", 5: "智力", 6: "精神", 7: "多重"}
GRADE_NAMES = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}
MULTIPLE = 7

_CERTIFICATE = re.compile(
    r"^(?P<id>\d{17}[\dX])(?P<category>\d)(?P<grade>\d)(?:B(?P<reissue>\d+))?$"
)


class IdentityError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def normalise(raw) -> str:
    """Full-width digits and letters (common in office spreadsheets) to ASCII; no spaces; upper."""
    text = unicodedata.normalize("NFKC", "" if raw is None else str(raw))
    return re.sub(r"\s+", "", text).upper()


def check_character(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits (ISO 7064 MOD 11-2)."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARACTERS[total % 11]


@dataclass(frozen=True)
class CitizenId:
    number: str
    area_code: str
    birth_date: date
    sex: str  # "male" (odd sequence) or "female" (even)


def citizen_id_parse(raw, *, today: date | None = None) -> CitizenId:
    """Check an 18-character citizen ID and read the birth date and sex it encodes."""
    number = normalise(raw)
    if not number:
        raise IdentityError("the citizen ID is empty")
    if len(number) == 15 and number.isdigit():
        raise IdentityError(
            f"'{number}' is a 15-digit ID of the old kind, which is not accepted: "
            "enter the 18-digit citizen ID from the person's current ID card"
        )
    if len(number) != 18:
        raise IdentityError(f"a citizen ID has 18 characters; '{number}' has {len(number)}")
    if not (number[:17].isdigit() and (number[17].isdigit() or number[17] == "X")):
        raise IdentityError(f"a citizen ID is 17 digits and a check digit or X; '{number}' is not")
    if number[:2] not in PROVINCES:
        raise IdentityError(f"'{number}' does not start with a Chinese area code")
    birth = _birth_date(number, today=today or timezone.localdate())
    expected = check_character(number[:17])
    if number[17] != expected:
        raise IdentityError(f"the check digit of '{number}' is wrong: it should end in {expected}")
    sex = "male" if int(number[16]) % 2 else "female"
    return CitizenId(number=number, area_code=number[:6], birth_date=birth, sex=sex)


def _birth_date(number: str, *, today: date) -> date:
    digits = number[6:14]
    try:
        birth = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise IdentityError(f"the birth date {digits} in '{number}' is not a real date") from None
    if birth > today:
        raise IdentityError(f"the birth date {birth.isoformat()} in '{number}' is in the future")
    if birth.year < EARLIEST_BIRTH_YEAR:
        raise IdentityError(f"the birth date {birth.isoformat()} in '{number}' is not plausible")
    return birth


def citizen_id_make(*, area_code: str, birth_date: date, sequence: int) -> str:
    """A valid ID for the area, birth date and 3-digit sequence (odd: male, even: female)."""
    first17 = f"{area_code}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def mask_citizen_id(number: str) -> str:
    """``330102********002X``: the area code and the last four stay readable."""
    return number[:6] + "*" * (len(number) - 10) + number[-4:] if len(number) > 10 else number


def mask_certificate_number(number: str) -> str:
    """The ID part masked, category, grade and reissue suffix readable."""
    return mask_citizen_id(number[:18]) + number[18:] if len(number) >= 18 else number


def mask_account(number: str) -> str:
    """``**** **** **** 1234``: only the last four digits."""
    number = number or ""
    return "**** " + number[-4:] if len(number) > 4 else "****"


@dataclass(frozen=True)
class CertificateNumber:
    number: str
    citizen_id: str
    category: int
    grade: int
    reissue: int  # 0 for the first issue, n for the suffix Bn


def certificate_number_parse(raw) -> CertificateNumber:
    """Check a certificate number's shape, its ID part, category and grade digits."""
    number = normalise(raw)
    if not number:
        raise IdentityError("the certificate number is empty")
    match = _CERTIFICATE.match(number)
    if match is None:
        raise IdentityError(
            f"'{number}' is not a certificate number: 18-character citizen ID, category digit "
            "1–7 and grade digit 1–4 (20 characters), and B1, B2 … for a reissue"
        )
    category, grade = int(match["category"]), int(match["grade"])
    if category not in CATEGORY_NAMES:
        raise IdentityError(f"unknown disability category digit {category} in '{number}' (1–7)")
    if grade not in GRADE_NAMES:
        raise IdentityError(f"unknown disability grade digit {grade} in '{number}' (1–4)")
    reissue = int(match["reissue"]) if match["reissue"] else 0
    if match["reissue"] is not None and (reissue < 1 or match["reissue"].startswith("0")):
        raise IdentityError(f"the reissue suffix of '{number}' must be B1, B2 …")
    try:
        citizen_id_parse(match["id"])
    except IdentityError as exc:
        raise IdentityError(f"the certificate number's ID part is wrong: {exc.message}") from None
    return CertificateNumber(number, match["id"], category, grade, reissue)


def certificate_number_make(*, citizen_id: str, category: int, grade: int, reissue: int = 0) -> str:
    return f"{citizen_id}{category}{grade}" + (f"B{reissue}" if reissue else "")


def certificate_number_mismatches(
    number: CertificateNumber, *, citizen_id: str, category: int, grade: int
) -> list[str]:
    """Where a certificate number disagrees with its holder's ID and its category/grade fields."""
    problems = []
    if number.citizen_id != citizen_id:
        problems.append(
            f"the certificate number {number.number} belongs to ID {number.citizen_id}, "
            f"not to this person's ID {citizen_id}"
        )
    if number.category != category:
        problems.append(
            f"the certificate number says category {number.category} "
            f"({CATEGORY_NAMES[number.category]}) but the category is {category} "
            f"({CATEGORY_NAMES.get(category, '?')})"
        )
    if number.grade != grade:
        problems.append(
            f"the certificate number says grade {number.grade} ({GRADE_NAMES[number.grade]}) "
            f"but the grade is {grade} ({GRADE_NAMES.get(grade, '?')})"
        )
    return problems


_CATEGORY_WORDS = {name: code for code, name in CATEGORY_NAMES.items()}
_GRADE_WORDS = {"一": 1, "二": 2, "三": 3, "四": 4, "壹": 1, "贰": 2, "叁": 3, "肆": 4}


def category_parse(raw) -> int:
    """``精神``, ``精神残疾``, ``6`` → 6."""
    text = normalise(raw)
    if text.isdigit() and int(text) in CATEGORY_NAMES:
        return int(text)
    word = text.removesuffix("残疾").removesuffix("类")
    if word in _CATEGORY_WORDS:
        return _CATEGORY_WORDS[word]
    raise IdentityError(
        f"unknown disability category '{raw}': use 视力, 听力, 言语, 肢体, 智力, 精神 or 多重"
    )


def grade_parse(raw) -> int:
    """``二级``, ``二``, ``2`` → 2."""
    text = normalise(raw).removesuffix("级")
    if text.isdigit() and int(text) in GRADE_NAMES:
        return int(text)
    if text in _GRADE_WORDS:
        return _GRADE_WORDS[text]
    raise IdentityError(f"unknown disability grade '{raw}': use 一级, 二级, 三级 or 四级")


def included_categories_parse(raw) -> list[int]:
    """``肢体、精神`` (or ``4,6``) → [4, 6]; the parts a 多重 certificate includes."""
    text = normalise(raw)
    if not text:
        return []
    parts = [p for p in re.split(r"[、,，;；/+]", text) if p]
    codes = sorted({category_parse(part) for part in parts})
    if MULTIPLE in codes:
        raise IdentityError("a 多重 certificate includes single categories (视力 … 精神), not 多重")
    return codes
