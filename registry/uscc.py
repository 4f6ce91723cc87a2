"""Unified social credit codes (统一社会信用代码, GB 32100-2015): institutions' own codes.

The one check of a credit code, used wherever one is entered; the arithmetic is
python-stdnum's (``stdnum.cn.uscc``)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import InvalidChecksum, ValidationError

from .identity import IdentityError, normalise

LENGTH = 18


def uscc_check(first17: str) -> str:
    """The check character of the first 17 characters."""
    return stdnum_uscc.calc_check_digit(first17)


def uscc_make(first17: str) -> str:
    return first17 + uscc_check(first17)


def uscc_parse(raw) -> str:
    """The checked, normalised credit code; ``IdentityError`` saying what is wrong otherwise."""
    code = normalise(raw)
    if not code:
        raise IdentityError(_("The unified social credit code is empty."))
    if len(code) != LENGTH:
        raise IdentityError(
            _("A unified social credit code has 18 characters; %(code)s has %(length)s.")
            % {"code": code, "length": len(code)}
        )
    try:
        return stdnum_uscc.validate(code)
    except InvalidChecksum:
        raise IdentityError(
            _(
                "The check character of the unified social credit code %(code)s is wrong: it "
                "should end in %(character)s."
            )
            % {"code": code, "character": uscc_check(code[:17])}
        ) from None
    except ValidationError:
        raise IdentityError(
            _(
                "The unified social credit code %(code)s is not 8 digits followed by 10 digits "
                "or capital letters (not I, O, S, V or Z)."
            )
            % {"code": code}
        ) from None


def uscc_is_valid(code: str) -> bool:
    return stdnum_uscc.is_valid(code or "")
