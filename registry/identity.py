"""Citizen IDs (GB 11643-1999), disability certificate numbers (second generation, 2018) and
payout card account numbers: the one check of each kind, used by every form, service and import.

Pure functions: no database. Every refusal is an ``IdentityError`` whose message says what is
wrong and in which number, in words a county clerk can act on (Chinese, through gettext). The
arithmetic is python-stdnum's (``stdnum.cn.ric``), not ours: one maintained implementation.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.cn import ric

# GB/T 2260 provinces (and Taiwan, Hong Kong, Macao), the first two digits of every area code.
_PROVINCE_DIGITS = "11121314152122233132333435363741424344454650515253546162636465718182"
PROVINCES = frozenset(_PROVINCE_DIGITS[i : i + 2] for i in range(0, len(_PROVINCE_DIGITS), 2))
EARLIEST_BIRTH_YEAR = 1880
CARD_LENGTHS = (8, 32)  # bank cards are 16–19 digits; social-security and 一卡通 numbers vary

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
    return ric.calc_check_digit(first17 + "?")  # stdnum reads a number with its check digit


@dataclass(frozen=True)
class CitizenId:
    number: str
    area_code: str
    birth_date: date
    sex: str  # "male" (odd sequence) or "female" (even)


def citizen_id_parse(raw, *, today: date | None = None) -> CitizenId:
    """Check an 18-character citizen ID and read the birth date and sex it encodes.

    The order of the checks is the order a clerk fixes them in: length, shape, area, birth
    date, and last the check digit (a typo anywhere shows there, so it says the least)."""
    number = normalise(raw)
    if not number:
        raise IdentityError(_("The citizen ID is empty."))
    if len(number) == 15 and number.isdigit():
        raise IdentityError(
            _(
                "The citizen ID %(number)s is a 15-digit ID of the old kind, which is not "
                "accepted: enter the 18-digit citizen ID from the person's current ID card."
            )
            % {"number": number}
        )
    if len(number) != 18:
        raise IdentityError(
            _("A citizen ID has 18 characters; %(number)s has %(length)s.")
            % {"number": number, "length": len(number)}
        )
    if not number[:17].isdigit():
        raise IdentityError(
            _("The citizen ID %(number)s is not 17 digits and a check digit (0–9 or X).")
            % {"number": number}
        )
    if number[:2] not in PROVINCES:
        raise IdentityError(
            _("The citizen ID %(number)s does not start with a Chinese area code.")
            % {"number": number}
        )
    birth = _birth_date(number, today=today or timezone.localdate())
    expected = check_character(number[:17])
    if number[17] != expected:
        raise IdentityError(
            _("The check digit of the citizen ID %(number)s is wrong: it should end in %(digit)s.")
            % {"number": number, "digit": expected}
        )
    sex = "male" if int(number[16]) % 2 else "female"
    return CitizenId(number=number, area_code=number[:6], birth_date=birth, sex=sex)


def citizen_id_check(raw) -> str:
    """The checked, normalised citizen ID (what forms and services store)."""
    return citizen_id_parse(raw).number


def _birth_date(number: str, *, today: date) -> date:
    digits = number[6:14]
    try:
        birth = ric.get_birth_date(number)
    except Exception:  # stdnum's InvalidComponent: no such day
        raise IdentityError(
            _("The birth date %(date)s in the citizen ID %(number)s is not a real date.")
            % {"date": digits, "number": number}
        ) from None
    if birth > today:
        raise IdentityError(
            _("The birth date %(date)s in the citizen ID %(number)s is in the future.")
            % {"date": birth.isoformat(), "number": number}
        )
    if birth.year < EARLIEST_BIRTH_YEAR:
        raise IdentityError(
            _("The birth date %(date)s in the citizen ID %(number)s is not plausible.")
            % {"date": birth.isoformat(), "number": number}
        )
    return birth


def card_number_check(raw) -> str:
    """A payout card account number (bank, social-security or 一卡通 card): digits only, spaces
    dropped. Banks use no public check digit for all of these, so only the shape is checked."""
    number = normalise(raw)
    low, high = CARD_LENGTHS
    if not number.isdigit() or not low <= len(number) <= high:
        raise IdentityError(
            _("A card account number is %(low)s to %(high)s digits; %(number)s is not.")
            % {"low": low, "high": high, "number": number or "—"}
        )
    return number


def citizen_id_make(*, area_code: str, birth_date: date, sequence: int) -> str:
    """A valid ID for the area, birth date and 3-digit sequence (odd: male, even: female)."""
    first17 = f"{area_code}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


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
        raise IdentityError(_("The certificate number is empty."))
    match = _CERTIFICATE.match(number)
    if match is None:
        raise IdentityError(
            _(
                "%(number)s is not a certificate number: the 18-character citizen ID, a category "
                "digit 1–7 and a grade digit 1–4 (20 characters), and B1, B2 … for a reissue."
            )
            % {"number": number}
        )
    category, grade = int(match["category"]), int(match["grade"])
    if category not in CATEGORY_NAMES:
        raise IdentityError(
            _("The category digit %(digit)s in the certificate number %(number)s is unknown (1–7).")
            % {"digit": category, "number": number}
        )
    if grade not in GRADE_NAMES:
        raise IdentityError(
            _("The grade digit %(digit)s in the certificate number %(number)s is unknown (1–4).")
            % {"digit": grade, "number": number}
        )
    reissue = int(match["reissue"]) if match["reissue"] else 0
    if match["reissue"] is not None and (reissue < 1 or match["reissue"].startswith("0")):
        raise IdentityError(
            _("The reissue suffix of the certificate number %(number)s must be B1, B2 …")
            % {"number": number}
        )
    try:
        citizen_id_parse(match["id"])
    except IdentityError as exc:
        raise IdentityError(
            _("The citizen ID in the certificate number is wrong: %(reason)s")
            % {"reason": exc.message}
        ) from None
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
            _(
                "The certificate number %(number)s belongs to the citizen ID %(owner)s, not to "
                "this person's ID %(citizen_id)s."
            )
            % {"number": number.number, "owner": number.citizen_id, "citizen_id": citizen_id}
        )
    if number.category != category:
        problems.append(
            _(
                "The certificate number says category %(said)s (%(said_name)s) but the category "
                "is %(given)s (%(given_name)s)."
            )
            % {
                "said": number.category,
                "said_name": CATEGORY_NAMES[number.category],
                "given": category,
                "given_name": CATEGORY_NAMES.get(category, "?"),
            }
        )
    if number.grade != grade:
        problems.append(
            _(
                "The certificate number says grade %(said)s (%(said_name)s) but the grade is "
                "%(given)s (%(given_name)s)."
            )
            % {
                "said": number.grade,
                "said_name": GRADE_NAMES[number.grade],
                "given": grade,
                "given_name": GRADE_NAMES.get(grade, "?"),
            }
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
        _(
            "Unknown disability category “%(value)s”: use 视力, 听力, 言语, 肢体, 智力, 精神 "
            "or 多重."
        )
        % {"value": raw}
    )


def grade_parse(raw) -> int:
    """``二级``, ``二``, ``2`` → 2."""
    text = normalise(raw).removesuffix("级")
    if text.isdigit() and int(text) in GRADE_NAMES:
        return int(text)
    if text in _GRADE_WORDS:
        return _GRADE_WORDS[text]
    raise IdentityError(
        _("Unknown disability grade “%(value)s”: use 一级, 二级, 三级 or 四级.") % {"value": raw}
    )


def included_categories_parse(raw) -> list[int]:
    """``肢体、精神`` (or ``4,6``) → [4, 6]; the parts a 多重 certificate includes."""
    text = normalise(raw)
    if not text:
        return []
    parts = [p for p in re.split(r"[、,，;；/+]", text) if p]
    codes = sorted({category_parse(part) for part in parts})
    if MULTIPLE in codes:
        raise IdentityError(
            _("A 多重 certificate includes single categories (视力 … 精神), not 多重.")
        )
    return codes
