"""The start of a certificate renewal: the applicant's citizen ID and certificate number are
checked by the registry's one check of each kind before any case exists."""

from __future__ import annotations

from django.utils.translation import gettext as _

from registry.identity import IdentityError, certificate_number_parse, citizen_id_parse
from workflows.exceptions import InvalidInput
from workflows.models import ProcessInstance
from workflows.services.instances import instance_start

PROCESS_KEY = "certificate_renewal"


def _refused(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, {field: [message]})


def renewal_numbers_check(variables: dict) -> dict:
    """The variables with the ID and certificate number normalised; InvalidInput naming the
    field and what is wrong otherwise (a certificate of someone else is refused too)."""
    try:
        citizen_id = citizen_id_parse(variables.get("applicant_id")).number
    except IdentityError as exc:
        raise _refused("applicant_id", exc.message) from None
    try:
        certificate = certificate_number_parse(variables.get("certificate_no"))
    except IdentityError as exc:
        raise _refused("certificate_no", exc.message) from None
    if certificate.citizen_id != citizen_id:
        raise _refused(
            "certificate_no",
            _(
                "The certificate number %(number)s belongs to the citizen ID %(owner)s, not to "
                "this person's ID %(citizen_id)s."
            )
            % {
                "number": certificate.number,
                "owner": certificate.citizen_id,
                "citizen_id": citizen_id,
            },
        )
    return {**variables, "applicant_id": citizen_id, "certificate_no": certificate.number}


def start_from_form(*, user, org_unit, business_key, variables: dict) -> ProcessInstance:
    """Every start of the procedure (portal start form, API) goes through the check."""
    return instance_start(
        process_key=PROCESS_KEY,
        user=user,
        business_key=business_key,
        org_unit=org_unit,
        variables=renewal_numbers_check(variables),
        delegate=False,
    )
