"""The eligibility rules and the checks the comparison makes, as pure functions over facts.

The same ``findings_for`` answers a township's "is this applicant eligible?" at once, one person
at a time, and the yearly comparison over every entry of a cycle (facts loaded in bulk)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from registry.models import (
    CardStatus,
    CertificateStatus,
    DisabilityCategory,
    LifeStatus,
    LowIncomeStatus,
)
from workflows.exceptions import InvalidInput

from . import conf
from .models import FlagKind

SCHEMES = ("tekun", "publicly_funded")
LOW_INCOME = ("dibao", "tekun")
REGISTRY_SOURCE = "registry"


def rules_default() -> dict:
    return rules_clean(conf.get("RULES"))


def rules_clean(raw: dict | None) -> dict:
    """A complete, checked rules dict (defaults for what is missing); InvalidInput otherwise."""
    defaults = conf.DEFAULTS["RULES"]
    raw = {**defaults, **conf.get("RULES"), **(raw or {})}
    statuses = _choices(raw.get("low_income_statuses"), LOW_INCOME, "low_income_statuses")
    schemes = _choices(raw.get("excluded_schemes"), SCHEMES, "excluded_schemes")
    if not statuses:
        message = _("Choose at least one low-income status that qualifies.")
        raise InvalidInput(message, {"low_income_statuses": [message]})
    return {
        "include_multiple": bool(raw.get("include_multiple")),
        "low_income_statuses": statuses,
        "excluded_schemes": schemes,
    }


def _choices(value, allowed: tuple[str, ...], name: str) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list | tuple) or any(v not in allowed for v in value):
        message = _("Choose from: %(options)s.") % {"options": ", ".join(allowed)}
        raise InvalidInput(message, {name: [message]})
    return [v for v in allowed if v in value]


def amount_clean(value) -> Decimal:
    """A positive amount in yuan with at most two decimals."""
    if value in (None, ""):
        value = conf.get("AMOUNT")
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        message = _("Enter an amount in yuan, e.g. 1000.")
        raise InvalidInput(message, {"amount": [message]}) from None
    if amount <= 0 or amount >= Decimal("100000"):
        message = _("The amount must be more than 0 and less than 100,000 yuan.")
        raise InvalidInput(message, {"amount": [message]})
    return amount


@dataclass(frozen=True)
class CertificateFacts:
    number: str
    category: int
    included: str
    status: str
    valid_until: date


@dataclass
class PersonFacts:
    """What the checks read about one person (loaded in bulk by the comparison)."""

    person_id: int
    citizen_id: str
    life_status: str
    deceased_on: date | None
    moved_out_on: date | None
    low_income_status: str
    low_income_since: date | None
    low_income_until: date | None
    publicly_funded: bool
    certificate: CertificateFacts | None = None
    ended_certificate: str = ""  # the status reason of the latest cancelled one, if no live one
    card_status: str | None = None

    def low_income_on(self, day: date) -> str:
        if self.low_income_status == "none":
            return "none"
        if self.low_income_since and day < self.low_income_since:
            return "none"
        if self.low_income_until and day > self.low_income_until:
            return "none"
        return self.low_income_status


@dataclass(frozen=True)
class RowRef:
    file_id: int
    file_name: str
    row_number: int
    data: dict


@dataclass
class Reference:
    """The cycle's reference files, indexed by citizen ID."""

    deaths: dict[str, RowRef] = field(default_factory=dict)
    moves: dict[str, RowRef] = field(default_factory=dict)
    low_income: dict[str, RowRef] = field(default_factory=dict)
    low_income_files: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Finding:
    kind: str
    detail: str
    source_file_id: int | None = None
    source_name: str = REGISTRY_SOURCE
    source_row: int | None = None

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "detail": self.detail,
            "source": self.source_name,
            "row": self.source_row,
        }


def _from_row(kind: str, detail: str, ref: RowRef) -> Finding:
    return Finding(kind, detail, ref.file_id, ref.file_name, ref.row_number)


def covers_psychiatric(certificate: CertificateFacts, rules: dict) -> bool:
    if certificate.category == DisabilityCategory.PSYCHIATRIC:
        return True
    return (
        certificate.category == DisabilityCategory.MULTIPLE
        and str(DisabilityCategory.PSYCHIATRIC.value) in certificate.included
        and rules["include_multiple"]
    )


def findings_for(facts: PersonFacts, rules: dict, reference: Reference, on: date) -> list[Finding]:
    """Every reason this person does not qualify on ``on`` (empty: eligible)."""
    found = (
        _life(facts, reference)
        + _certificate(facts, rules, on)
        + _income(facts, rules, reference, on)
    )
    if facts.card_status != CardStatus.ACTIVE:
        if facts.card_status is None:
            detail = _("no card account registered")
        else:
            label = CardStatus(facts.card_status).label
            detail = _("the card account is %(status)s") % {"status": label}
        found.append(Finding(FlagKind.NO_CARD, detail))
    return found


def _life(facts: PersonFacts, reference: Reference) -> list[Finding]:
    found = []
    death = reference.deaths.get(facts.citizen_id)
    if death is not None:
        day = death.data.get("date") or "?"
        found.append(_from_row(FlagKind.DECEASED, _("died on %(day)s") % {"day": day}, death))
    elif facts.life_status == LifeStatus.DECEASED:
        day = facts.deceased_on.isoformat() if facts.deceased_on else "?"
        found.append(Finding(FlagKind.DECEASED, _("died on %(day)s") % {"day": day}))
    move = reference.moves.get(facts.citizen_id)
    if move is not None:
        day = move.data.get("date") or "?"
        detail = _("household moved out on %(day)s") % {"day": day}
        found.append(_from_row(FlagKind.MOVED_OUT, detail, move))
    elif facts.moved_out_on is not None:
        detail = _("household moved out on %(day)s") % {"day": facts.moved_out_on.isoformat()}
        found.append(Finding(FlagKind.MOVED_OUT, detail))
    return found


def _certificate(facts: PersonFacts, rules: dict, on: date) -> list[Finding]:
    certificate = facts.certificate
    if certificate is None:
        detail = _("no valid certificate")
        if facts.ended_certificate:
            detail += f"（{facts.ended_certificate}）"
        return [Finding(FlagKind.CERTIFICATE_CANCELLED, detail)]
    found = []
    if certificate.status == CertificateStatus.EXPIRED or certificate.valid_until < on:
        detail = _("certificate %(number)s expired on %(day)s") % {
            "number": certificate.number[-4:],
            "day": certificate.valid_until.isoformat(),
        }
        found.append(Finding(FlagKind.CERTIFICATE_EXPIRED, detail))
    if not covers_psychiatric(certificate, rules):
        category = DisabilityCategory(certificate.category).label
        if certificate.category == DisabilityCategory.MULTIPLE and "6" in certificate.included:
            detail = _("a 多重 certificate including 精神 does not count in this county")
        else:
            detail = _("certificate category is %(category)s") % {"category": category}
        found.append(Finding(FlagKind.NOT_PSYCHIATRIC, detail))
    return found


def _income(facts: PersonFacts, rules: dict, reference: Reference, on: date) -> list[Finding]:
    if reference.low_income_files:
        found = _income_from_list(facts, rules, reference, on)
    else:
        found = _income_from_registry(facts, rules, on)
    if facts.publicly_funded and "publicly_funded" in rules["excluded_schemes"]:
        found.append(Finding(FlagKind.EXCLUDED_SCHEME, _("paid from public funds")))
    return found


def _status_label(status: str) -> str:
    """A low-income status as the clerk knows it (低保, 特困), not its stored value."""
    if status in LowIncomeStatus.values:
        return str(LowIncomeStatus(status).label)
    return status


def _income_from_list(facts, rules: dict, reference: Reference, on: date) -> list[Finding]:
    """The civil-affairs list, when one was uploaded, is the authority on low-income status."""
    row = reference.low_income.get(facts.citizen_id)
    if row is None:
        file_id, name = reference.low_income_files[0]
        detail = _("not on the civil-affairs low-income list")
        return [Finding(FlagKind.LOW_INCOME_LOST, detail, file_id, name, None)]
    status, until = row.data.get("status", "none"), row.data.get("until")
    if until and until < on.isoformat():
        detail = _("low-income status ended on %(day)s") % {"day": until}
        return [_from_row(FlagKind.LOW_INCOME_LOST, detail, row)]
    if status not in rules["low_income_statuses"]:
        detail = _("low-income status %(status)s does not qualify") % {
            "status": _status_label(status)
        }
        return [_from_row(FlagKind.LOW_INCOME_LOST, detail, row)]
    if status in rules["excluded_schemes"]:
        return [_from_row(FlagKind.EXCLUDED_SCHEME, _("in 特困供养 support"), row)]
    return []


def _income_from_registry(facts: PersonFacts, rules: dict, on: date) -> list[Finding]:
    status = facts.low_income_on(on)
    if status == "none":
        if facts.low_income_until and facts.low_income_until < on:
            day = facts.low_income_until.isoformat()
            detail = _("low-income status ended on %(day)s") % {"day": day}
        else:
            detail = _("no low-income status")
        return [Finding(FlagKind.LOW_INCOME_LOST, detail)]
    if status not in rules["low_income_statuses"]:
        detail = _("low-income status %(status)s does not qualify") % {
            "status": _status_label(status)
        }
        return [Finding(FlagKind.LOW_INCOME_LOST, detail)]
    if status in rules["excluded_schemes"]:
        return [Finding(FlagKind.EXCLUDED_SCHEME, _("in 特困供养 support"))]
    return []
