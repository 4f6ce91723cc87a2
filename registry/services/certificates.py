"""Disability certificates: issue, reissue, renew, cancel, and the expiry sweep. Every status
change is a django-fsm transition recorded in the registry's audit chain."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from workflows.exceptions import Conflict, InvalidInput, NotFound

from .. import conf
from ..identity import (
    MULTIPLE,
    IdentityError,
    certificate_number_make,
    certificate_number_mismatches,
    certificate_number_parse,
)
from ..models import (
    LIVE_STATUSES,
    Certificate,
    CertificateStatus,
    DisabilityCategory,
    DisabilityGrade,
    Person,
    RegistryEventKind,
)
from .access import can_read_person, reach_for, require
from .audit import registry_event_append, subject_of


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def valid_until_for(issued_on: date) -> date:
    return add_years(issued_on, conf.get("CERTIFICATE_VALID_YEARS"))


def status_on(valid_until: date, today: date) -> str:
    if valid_until < today:
        return CertificateStatus.EXPIRED
    if valid_until - today <= timedelta(days=conf.get("EXPIRING_DAYS")):
        return CertificateStatus.EXPIRING
    return CertificateStatus.VALID


def _choices(choices, exclude=None) -> str:
    return "、".join(str(c.label) for c in choices if c.value != exclude)


def certificate_fields_check(*, category, grade, included, issued_on) -> str:
    """Checks category, grade, 多重 parts and issue date; returns the included digits."""
    if category not in DisabilityCategory.values:
        message = gettext("Choose a disability category: %(choices)s.") % {
            "choices": _choices(DisabilityCategory)
        }
        raise InvalidInput(message, {"category": [message]})
    if grade not in DisabilityGrade.values:
        message = gettext("Choose a disability grade: %(choices)s.") % {
            "choices": _choices(DisabilityGrade)
        }
        raise InvalidInput(message, {"grade": [message]})
    included = sorted(set(included or []))
    if category == MULTIPLE:
        if len(included) < 2 or any(c not in range(1, 7) for c in included):
            message = gettext(
                "A multiple-disability certificate names the two or more categories it "
                "includes, among: %(choices)s."
            ) % {"choices": _choices(DisabilityCategory, exclude=MULTIPLE)}
            raise InvalidInput(message, {"included_categories": [message]})
    elif included:
        message = gettext("Only a multiple-disability certificate includes other categories.")
        raise InvalidInput(message, {"included_categories": [message]})
    if issued_on is None or issued_on > timezone.localdate():
        message = gettext("Enter the issue date; it cannot be in the future.")
        raise InvalidInput(message, {"issued_on": [message]})
    return "".join(str(c) for c in included)


def _require_certificate_role(user, person: Person) -> None:
    if user is None:
        return
    reach = reach_for(user)
    if not can_read_person(reach, person):
        raise NotFound(gettext("No such person."))
    require(
        reach.reaches(person.household_unit.path, conf.get("CERTIFICATE_ROLES")),
        gettext("Only the county federation issues and changes certificates."),
    )


@transaction.atomic
def certificate_issue(
    *,
    user,
    person: Person,
    category: int,
    grade: int,
    issued_on: date,
    included_categories=(),
    number: str = "",
    replaces: Certificate | None = None,
) -> Certificate:
    """Issue a certificate; its number follows from the person's ID, category and grade (a
    given ``number`` must agree with them)."""
    _require_certificate_role(user, person)
    included = certificate_fields_check(
        category=category, grade=grade, included=included_categories, issued_on=issued_on
    )
    if number:
        try:
            parsed = certificate_number_parse(number)
        except IdentityError as exc:
            raise InvalidInput(exc.message, {"number": [exc.message]}) from None
        mismatches = certificate_number_mismatches(
            parsed, citizen_id=person.citizen_id, category=category, grade=grade
        )
        if mismatches:
            raise InvalidInput("; ".join(mismatches), {"number": mismatches})
        number = parsed.number
    else:
        number = certificate_number_make(
            citizen_id=person.citizen_id, category=category, grade=grade
        )
    live = Certificate.objects.filter(person=person, status__in=LIVE_STATUSES).first()
    if live is not None:
        raise Conflict(
            gettext(
                "%(name)s already holds certificate %(number)s (%(status)s): reissue, renew "
                "or cancel it instead."
            )
            % {"name": person.name, "number": live.number, "status": live.get_status_display()}
        )
    valid_until = valid_until_for(issued_on)
    certificate = Certificate.objects.create(
        number=number,
        person=person,
        category=category,
        grade=grade,
        included_categories=included,
        issued_on=issued_on,
        valid_until=valid_until,
        status=status_on(valid_until, timezone.localdate()),
        replaces=replaces,
    )
    registry_event_append(
        actor=user,
        kind=RegistryEventKind.CERTIFICATE_ISSUED,
        subject=subject_of(certificate),
        payload={
            "number": number,
            "person": person.pk,
            "category": category,
            "grade": grade,
            "included": included,
            "issued_on": issued_on,
            "status": certificate.status,
            "replaces": replaces.number if replaces else "",
        },
    )
    return certificate


def _transition(certificate: Certificate, *, user, kind: str, change, payload=None) -> None:
    before = certificate.status
    change()
    certificate.save()
    registry_event_append(
        actor=user,
        kind=kind,
        subject=subject_of(certificate),
        payload={"number": certificate.number, "from": before, "to": certificate.status}
        | (payload or {}),
    )


def _locked(certificate: Certificate) -> Certificate:
    locked = Certificate.objects.select_for_update().select_related("person__household_unit")
    return locked.get(pk=certificate.pk)


def _require_live(certificate: Certificate, action: str) -> None:
    """``action`` is what cannot be done, as a clause: "it cannot be cancelled"."""
    if certificate.status not in LIVE_STATUSES:
        raise Conflict(
            gettext("Certificate %(number)s of %(name)s is %(status)s: %(action)s.")
            % {
                "number": certificate.number,
                "name": certificate.person.name,
                "status": certificate.get_status_display(),
                "action": action,
            }
        )


@transaction.atomic
def certificate_cancel(*, user, certificate: Certificate, reason: str) -> Certificate:
    certificate = _locked(certificate)
    _require_certificate_role(user, certificate.person)
    if not (reason or "").strip():
        required = gettext("This field is required.")
        raise InvalidInput(gettext("Say why the certificate is cancelled."), {"reason": [required]})
    _require_live(certificate, gettext("it cannot be cancelled"))
    _transition(
        certificate,
        user=user,
        kind=RegistryEventKind.CERTIFICATE_CANCELLED,
        change=lambda: certificate.cancel(reason=reason.strip()),
        payload={"reason": reason.strip()},
    )
    return certificate


@transaction.atomic
def certificate_renew(*, user, certificate: Certificate, issued_on: date) -> Certificate:
    """换领: an expiring or expired certificate gets a new 10-year validity, same number."""
    certificate = _locked(certificate)
    _require_certificate_role(user, certificate.person)
    if certificate.status not in (CertificateStatus.EXPIRING, CertificateStatus.EXPIRED):
        raise Conflict(
            gettext(
                "Certificate %(number)s of %(name)s is %(status)s: only expiring or expired "
                "certificates are renewed."
            )
            % {
                "number": certificate.number,
                "name": certificate.person.name,
                "status": certificate.get_status_display(),
            }
        )
    if issued_on is None or issued_on > timezone.localdate() or issued_on < certificate.issued_on:
        message = gettext(
            "Enter the renewal date: not in the future, and not before the issue date %(day)s."
        ) % {"day": certificate.issued_on}
        raise InvalidInput(message, {"issued_on": [message]})
    valid_until = valid_until_for(issued_on)
    _transition(
        certificate,
        user=user,
        kind=RegistryEventKind.CERTIFICATE_RENEWED,
        change=lambda: certificate.renew(issued_on=issued_on, valid_until=valid_until),
        payload={"issued_on": issued_on, "valid_until": valid_until},
    )
    return certificate


@transaction.atomic
def certificate_reissue(
    *,
    user,
    certificate: Certificate,
    reason: str,
    category: int | None = None,
    grade: int | None = None,
    included_categories=None,
    issued_on: date | None = None,
) -> Certificate:
    """Replace a live certificate. Same category and grade (lost or damaged): the number gets
    the next B suffix and keeps its validity. A new category or grade (re-assessment): a new
    number and a new validity from ``issued_on``."""
    certificate = _locked(certificate)
    _require_certificate_role(user, certificate.person)
    _require_live(certificate, gettext("it cannot be reissued"))
    category = certificate.category if category is None else category
    grade = certificate.grade if grade is None else grade
    if included_categories is None:
        included_categories = certificate.included if category == certificate.category else []
    same = (category, grade) == (certificate.category, certificate.grade)
    person = certificate.person
    _transition(
        certificate,
        user=user,
        kind=RegistryEventKind.CERTIFICATE_REISSUED,
        change=lambda: certificate.supersede(reason=(reason or "").strip()),
        payload={"reason": (reason or "").strip()},
    )
    if not same:
        return certificate_issue(
            user=user,
            person=person,
            category=category,
            grade=grade,
            issued_on=issued_on or timezone.localdate(),
            included_categories=included_categories,
            replaces=certificate,
        )
    base = certificate_number_make(citizen_id=person.citizen_id, category=category, grade=grade)
    suffixes = Certificate.objects.filter(person=person, number__startswith=base).values_list(
        "number", flat=True
    )
    latest = max((int(n[len(base) + 1 :]) for n in suffixes if len(n) > len(base)), default=0)
    number = certificate_number_make(
        citizen_id=person.citizen_id, category=category, grade=grade, reissue=latest + 1
    )
    replacement = Certificate.objects.create(
        number=number,
        person=person,
        category=category,
        grade=grade,
        included_categories=certificate.included_categories,
        issued_on=certificate.issued_on,
        valid_until=certificate.valid_until,
        status=status_on(certificate.valid_until, timezone.localdate()),
        replaces=certificate,
    )
    registry_event_append(
        actor=user,
        kind=RegistryEventKind.CERTIFICATE_ISSUED,
        subject=subject_of(replacement),
        payload={"number": number, "person": person.pk, "replaces": certificate.number},
    )
    return replacement


def certificates_refresh_statuses(*, today: date | None = None) -> dict[str, int]:
    """The daily sweep: valid → expiring within ``EXPIRING_DAYS``, → expired after the date.
    Each change is its own audited transition; safe to run any number of times."""
    today = today or timezone.localdate()
    soon = today + timedelta(days=conf.get("EXPIRING_DAYS"))
    counts = {"expiring": 0, "expired": 0}
    due = Certificate.objects.filter(
        status__in=[CertificateStatus.VALID, CertificateStatus.EXPIRING], valid_until__lte=soon
    ).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            certificate = Certificate.objects.select_for_update().get(pk=pk)
            target = status_on(certificate.valid_until, today)
            if target == CertificateStatus.EXPIRED and certificate.status != target:
                kind, change = RegistryEventKind.CERTIFICATE_EXPIRED, certificate.mark_expired
            elif target == CertificateStatus.EXPIRING and certificate.status == "valid":
                kind, change = RegistryEventKind.CERTIFICATE_EXPIRING, certificate.mark_expiring
            else:
                continue
            _transition(certificate, user=None, kind=kind, change=change)
            counts[target] += 1
    return counts
