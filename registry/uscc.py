"""Unified social credit codes (统一社会信用代码, GB 32100-2015): institutions' own codes."""

from __future__ import annotations

CHARACTERS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check(first17: str) -> str:
    total = sum(CHARACTERS.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARACTERS[(31 - total % 31) % 31]


def uscc_make(first17: str) -> str:
    return first17 + uscc_check(first17)


def uscc_is_valid(code: str) -> bool:
    code = (code or "").upper()
    if len(code) != 18 or any(c not in CHARACTERS for c in code):
        return False
    return uscc_check(code[:17]) == code[17]
