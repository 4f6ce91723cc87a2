"""The yearly data comparison (数据比对): every continuing recipient and new applicant against the
registry and the uploaded reference files, in bulk. Runs as an asynchronous job; running it
again after it finished changes nothing."""

from __future__ import annotations

from collections import Counter, defaultdict

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import (
    CycleState,
    EntryFlag,
    EntrySource,
    EntryState,
    FlagKind,
    TownshipList,
    TownshipListState,
)
from ..rules import Finding, findings_for
from .common import chunks, locked_cycle, record
from .facts import person_facts
from .reference import reference_for


def _summary_result(cycle) -> dict:
    summary = cycle.comparison or {}
    return {
        "compared_entries": summary.get("entries", 0),
        "flagged_entries": summary.get("flagged", 0),
    }


def cycle_compare(*, cycle_id: int) -> dict:
    """Flag every entry of the cycle, move the entries to review and open the townships' lists.

    One transaction under the cycle's row lock; entries, flags and the summary are written in
    bulk (a fixed number of statements per 2,000 entries)."""
    with transaction.atomic():
        cycle = locked_cycle(cycle_id)
        if cycle.state != CycleState.SURVEYING:
            return _summary_result(cycle)  # a re-run of a finished job
        entries = list(
            cycle.entries.filter(state=EntryState.SURVEYED)
            .order_by("pk")
            .values_list("pk", "person_id", "township_id", "source")
        )
        listed = cycle.entries.filter(state=EntryState.SURVEYED).values("person_id")
        facts = person_facts(listed)
        reference = reference_for(cycle)
        today = timezone.localdate()
        by_person: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for pk, person_id, _township, source in entries:
            by_person[person_id].append((pk, source))
        flags, flagged, kinds = [], [], Counter()
        per_township: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for pk, person_id, township_id, _source in entries:
            found = findings_for(facts[person_id], cycle.rules, reference, today)
            if len(by_person[person_id]) > 1:
                found.append(_duplicate(pk, by_person[person_id]))
            per_township[township_id][0] += 1
            if found:
                flagged.append(pk)
                per_township[township_id][1] += 1
            for finding in found:
                kinds[finding.kind] += 1
                flags.append(_flag(pk, finding))
        for chunk in chunks(flags, 2000):
            EntryFlag.objects.bulk_create(chunk)
        cycle.entries.filter(state=EntryState.SURVEYED).update(
            state=EntryState.COMPARED, amount=cycle.amount
        )
        for chunk in chunks(flagged, 900):
            cycle.entries.filter(pk__in=chunk).update(flagged=True)
        TownshipList.objects.filter(
            cycle=cycle,
            state__in=[TownshipListState.SURVEYING, TownshipListState.SURVEY_SUBMITTED],
        ).update(state=TownshipListState.REVIEWING)
        codes = dict(cycle.townships.values_list("township_id", "township__code"))
        summary = {
            "entries": len(entries),
            "flagged": len(flagged),
            "by_kind": dict(sorted(kinds.items())),
            "by_township": {codes.get(t, str(t)): counts for t, counts in per_township.items()},
            "reference_files": sorted(
                {f.file_name for r in (reference.deaths, reference.moves) for f in r.values()}
                | {name for _pk, name in reference.low_income_files}
            ),
        }
        cycle.compare()
        cycle.comparison = summary
        cycle.save()
        record(
            cycle,
            actor=None,
            change="compared",
            before=EntryState.SURVEYED,
            after=EntryState.COMPARED,
            flagged_entries=flagged,
            **summary,
        )
    return _summary_result(cycle)


def _duplicate(pk: int, listed: list[tuple[int, str]]) -> Finding:
    others = [EntrySource(source).label for other, source in listed if other != pk]
    detail = _("listed %(n)s times in this cycle (also as %(others)s)") % {
        "n": len(listed),
        "others": "、".join(str(o) for o in others),
    }
    return Finding(FlagKind.DUPLICATE_ID, detail)


def _flag(entry_id: int, finding: Finding) -> EntryFlag:
    return EntryFlag(
        entry_id=entry_id,
        kind=finding.kind,
        detail=finding.detail[:300],
        source_file_id=finding.source_file_id,
        source_name=finding.source_name[:255],
        source_row=finding.source_row,
    )
