"""What a case page shows: the path taken, the timeline, the data, the documents."""

from __future__ import annotations

from dataclasses import dataclass, field

from workflows.audit_origin import ORIGIN_KEY
from workflows.models import AuditEvent, AuditKind, HumanTask, ProcessInstance
from workflows.selectors.history import instance_history
from workflows.services.documents import documents_of

from .lookups import data_labels, element_names, people_names
from .personal import masked

# The origin is left out too: the replay shows it.
HIDDEN_PAYLOAD = {"state_digest", "state_summary", "handlers", "definition", "uuid", ORIGIN_KEY}


@dataclass
class TimelineEntry:
    event: AuditEvent
    who: str
    what: str
    element: str
    changes: list[tuple[str, object]] = field(default_factory=list)


def _changes(event: AuditEvent, labels: dict[str, str]) -> list[tuple[str, object]]:
    payload = event.payload or {}
    if event.kind == AuditKind.TASK_COMPLETED:
        items = (payload.get("data") or {}).items()
    elif event.kind == AuditKind.INSTANCE_STARTED:
        items = (payload.get("variables") or {}).items()
    else:
        items = ((k, v) for k, v in payload.items() if k not in HIDDEN_PAYLOAD)
    return [(labels.get(k, k), masked(v, k)) for k, v in sorted(items)]


def labelled_data(instance: ProcessInstance) -> list[tuple[str, object]]:
    """The case's current variables, named as their form fields are; personal numbers masked."""
    labels = data_labels(instance.definition)
    variables = sorted((instance.variables or {}).items())
    return [(labels.get(k, k), masked(v, k)) for k, v in variables]


def timeline(instance: ProcessInstance) -> list[TimelineEntry]:
    """The case's audit events, oldest first, with people's and steps' names (2 queries)."""
    events = list(instance_history(instance=instance))
    people = people_names(e.actor for e in events)
    names = element_names(instance.definition)
    labels = data_labels(instance.definition)
    kinds = dict(AuditKind.choices)
    return [
        TimelineEntry(
            event=e,
            who=people.get(e.actor, e.actor) if e.actor else "",
            what=str(kinds.get(e.kind, e.kind)),
            element=names.get(e.element_id, e.element_id),
            changes=_changes(e, labels),
        )
        for e in events
    ]


def case_tasks(instance: ProcessInstance) -> list[HumanTask]:
    return list(
        instance.human_tasks.select_related("assignee", "completed_by").order_by("created_at", "pk")
    )


def case_documents(instance: ProcessInstance):
    return list(documents_of(instance))
