"""Reads of persons and certificates, limited to what the user's grants reach."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext

from workflows.exceptions import NotFound

from ..identity import normalise
from ..models import LIVE_STATUSES, Certificate, Person
from ..services.access import Reach, persons_reach_q, reach_for


def persons_for_user(
    *,
    user,
    reach: Reach | None = None,
    search: str = "",
    org_unit: str = "",
    category: int | None = None,
    low_income_status: str = "",
) -> QuerySet[Person]:
    """Persons the user may read, newest certificate prefetched. ``search``: a name part or
    the start or last digits of a citizen ID."""
    reach = reach or reach_for(user)
    persons = Person.objects.select_related("household_unit")
    visible = persons_reach_q(reach)
    if visible is not None:
        persons = persons.filter(visible)
    search = (search or "").strip()
    if search:
        digits = normalise(search)
        if digits[:1].isdigit():
            persons = persons.filter(
                Q(citizen_id__startswith=digits) | Q(citizen_id__endswith=digits)
            )
        else:
            persons = persons.filter(name__contains=search)
    if org_unit:
        persons = persons.filter(household_unit__path__startswith=unit_path(org_unit))
    if category:
        persons = persons.filter(
            certificates__status__in=LIVE_STATUSES, certificates__category=category
        )
    if low_income_status:
        persons = persons.filter(low_income_status=low_income_status)
    live = Certificate.objects.filter(status__in=LIVE_STATUSES)
    return persons.prefetch_related(Prefetch("certificates", live, to_attr="live_certificates"))


def unit_path(code: str) -> str:
    from ..scopes import RegistryScopeResolver

    # An unknown code matches nothing rather than everything.
    return RegistryScopeResolver().scope_path(code) or "\x00"


def person_for_user(*, user, pk: int, reach: Reach | None = None) -> Person:
    """One person the user may read; anything else is "not found" (no existence leak)."""
    person = persons_for_user(user=user, reach=reach).filter(pk=pk).first()
    if person is None:
        raise NotFound(gettext("No such person."))
    return person


def certificates_for_user(*, user, reach: Reach | None = None) -> QuerySet[Certificate]:
    reach = reach or reach_for(user)
    certificates = Certificate.objects.select_related("person__household_unit")
    visible = persons_reach_q(reach)
    if visible is not None:
        certificates = certificates.filter(person__in=Person.objects.filter(visible).values("pk"))
    return certificates.order_by("-issued_on", "pk")


def certificate_for_user(*, user, pk: int, reach: Reach | None = None) -> Certificate:
    certificate = certificates_for_user(user=user, reach=reach).filter(pk=pk).first()
    if certificate is None:
        raise NotFound(gettext("No such certificate."))
    return certificate
