"""Loading what the checks read about persons: three or four queries for any number of them."""

from __future__ import annotations

from registry.models import LIVE_STATUSES, CardAccount, Certificate, CertificateStatus, Person

from ..rules import CertificateFacts, PersonFacts

PERSON_FIELDS = (
    "pk",
    "citizen_id",
    "life_status",
    "deceased_on",
    "moved_out_on",
    "low_income_status",
    "low_income_since",
    "low_income_until",
    "publicly_funded",
)


def person_facts(person_ids) -> dict[int, PersonFacts]:
    """Facts by person id; ``person_ids`` is a list or a ``values("person_id")`` subquery."""
    facts = {
        row[0]: PersonFacts(*row)
        for row in Person.objects.filter(pk__in=person_ids)
        .values_list(*PERSON_FIELDS)
        .iterator(chunk_size=5000)
    }
    live = Certificate.objects.filter(person_id__in=person_ids, status__in=LIVE_STATUSES)
    for person_id, number, category, included, status, valid_until in live.values_list(
        "person_id", "number", "category", "included_categories", "status", "valid_until"
    ).iterator(chunk_size=5000):
        if person_id in facts:
            facts[person_id].certificate = CertificateFacts(
                number, category, included, status, valid_until
            )
    without = [pk for pk, f in facts.items() if f.certificate is None]
    for start in range(0, len(without), 900):  # SQLite caps the parameters of one query
        ended = (
            Certificate.objects.filter(person_id__in=without[start : start + 900])
            .order_by("person_id", "created_at", "pk")
            .values_list("person_id", "status", "status_reason")
        )
        for person_id, status, reason in ended:
            facts[person_id].ended_certificate = reason or str(CertificateStatus(status).label)
    cards = CardAccount.objects.filter(person_id__in=person_ids).values_list("person_id", "status")
    for person_id, status in cards.iterator(chunk_size=5000):
        if person_id in facts:
            facts[person_id].card_status = status
    return facts
