"""What the registry offers the host for every door: the check of each kind of value, for
every form (``"properties": {"check": "citizen_id"}`` on a form-js field; the same check and
message as the services and imports use), and the masking of a case's data in the API."""

from __future__ import annotations

from workflows import extensions

from .identity import IdentityError, card_number_check, certificate_number_parse, citizen_id_parse
from .masking import mask_data
from .uscc import uscc_parse


def _message_of(parse):
    def check(value) -> str | None:
        try:
            parse(value)
        except IdentityError as exc:
            return exc.message
        return None

    return check


CHECKS = {
    "citizen_id": citizen_id_parse,
    "certificate_number": certificate_number_parse,
    "uscc": uscc_parse,
    "card_number": card_number_check,
}


def register_value_checks() -> None:
    for name, parse in CHECKS.items():
        extensions.register_value_check(name, _message_of(parse))
    # The same masking as the portal's pages, for the host's API (a case's variables).
    extensions.register_data_masker(mask_data)
