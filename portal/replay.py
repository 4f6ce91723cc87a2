"""The auditor's replay of a case, as the browser steps through it (one JSON document).

Each step names the event (who, in which role, when, from where, what), the data it changed
(before → after), the deadlines as they stood then, and an index into a table of diagram
states (elements' states change only on engine events, so most steps share one)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from workflows import extensions
from workflows.audit_origin import ORIGIN_KEY
from workflows.models import AuditHead, AuditKind, ProcessDefinition, ProcessInstance
from workflows.replay_findings import Reader
from workflows.scopes import resolver
from workflows.selectors.case_replay import CaseHistory, Frame, case_history
from workflows.services.documents import documents_of
from workflows.services.replay import collector_paused, initial_definition

from .lookups import data_labels, element_names, people_names, value_labels

DEADLINE_SUFFIXES = ("_due", "_window_end", "_deadline")
HIDDEN_KEYS = {"state_digest", "state_summary", "handlers", "definition", "uuid", ORIGIN_KEY}
MAX_VALUE_CHARS = 300


def readable(value, options: dict[str, str] | None = None) -> str:
    """A value as a person reads it: an option's label, a moment in local time, plain text."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if options and str(value) in options:
        return f"{options[str(value)]} ({value})"
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T":
        moment = parse_datetime(value)
        if moment is not None:
            return date_format(timezone.localtime(moment), "DATETIME_FORMAT")
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def _diff(before: dict, after: dict) -> list[tuple[str, object, object]]:
    changed = []
    for key in sorted(set(before) | set(after)):
        if key in HIDDEN_KEYS:
            continue
        old, new = before.get(key), after.get(key)
        if old != new:
            changed.append((key, old, new))
    return changed


def _as_moment(value) -> datetime | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value[:10])
        if day is None:
            return None
        moment = datetime.combine(day, datetime.max.time().replace(microsecond=0))
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _days(delta: timedelta) -> int:
    return max(0, delta.days + (1 if delta.seconds else 0))


def _deadline(label: str, due: datetime, at: datetime, *, task_open: bool) -> dict:
    local = timezone.localtime(due)
    if due >= at:
        status = "open"
        text = _("%(days)d days left") % {"days": _days(due - at)}
    else:
        status = "overdue" if task_open else "passed"
        text = (_("overdue by %(days)d days") if task_open else _("passed %(days)d days ago")) % {
            "days": _days(at - due)
        }
    return {
        "label": label,
        "due": date_format(local, "DATETIME_FORMAT"),
        "status": status,
        "text": text,
    }


def _origin_text(payload: dict) -> str:
    origin = payload.get(ORIGIN_KEY) or {}
    if not origin:
        return _("not recorded")
    channels = {
        "portal": _("portal"),
        "api": _("API"),
        "admin": _("admin"),
        "command": _("command line"),
        "job": _("job runner"),
    }
    channel = str(channels.get(origin.get("channel"), origin.get("channel", "")))
    return f"{channel} · {origin['ip']}" if origin.get("ip") else channel


class _Presenter:
    def __init__(self, history: CaseHistory):
        definition = history.instance.definition
        self.history = history
        self.names = element_names(definition)
        self.labels = data_labels(definition)
        self.options = value_labels(definition)
        self.changes_named = extensions.record_change_labels(definition.key)
        self.roles = resolver().roles()
        self.people = people_names(f.actor for f in history.frames)

    def change_name(self, change: str) -> str:
        """A record's change as people call it; ``fitted:delivery`` and ``<step>:<decision>``
        name their first part and keep the detail."""
        if change in self.changes_named:
            return self.changes_named[change]
        head, _sep, detail = change.partition(":")
        name = self.changes_named.get(head) or self.names.get(head)
        return f"{name}（{detail}）" if name and detail else change

    def label(self, key: str) -> str:
        return self.labels.get(key, key)

    def role(self, frame: Frame) -> str:
        task = self.history.human_tasks.get(frame.task_id)
        if task is None:
            return ""
        return "、".join(self.roles.get(r, r) for r in task.candidate_roles) or (
            _("named assignee") if task.assignee_id else ""
        )

    def deadlines(self, frame: Frame) -> list[dict]:
        found = []
        for task_id in frame.open_tasks:
            task = self.history.human_tasks.get(task_id)
            if task is not None and task.due_at:
                label = _("%(task)s (time limit of the task)") % {"task": task.name}
                found.append(_deadline(label, task.due_at, frame.at, task_open=True))
        for key, value in sorted(frame.data.items()):
            if key.endswith(DEADLINE_SUFFIXES):
                due = _as_moment(value)
                if due is not None:
                    found.append(_deadline(self.label(key), due, frame.at, task_open=False))
        return found

    def changes(self, before: dict, after: dict) -> list[list[str]]:
        """[label, before, after, variable] for each value that changed."""
        return [
            [self.label(key), readable(old, opts), readable(new, opts), key]
            for key, old, new in _diff(before, after)
            for opts in [self.options.get(key)]
        ]


def replay_document(history: CaseHistory) -> dict:
    """Everything the replay page needs, in one document (built in one pass over the frames)."""
    presenter = _Presenter(history)
    state_tables: list[dict[str, str]] = []
    state_index: dict[int, int] = {}
    steps = []
    previous_data: dict = {}
    previous_record: dict[str, dict] = {}
    # The diagram each step is drawn on: the case's first version, then each version it moved to.
    diagram = initial_definition(history.instance)
    diagrams = {diagram.pk: diagram}
    for frame in history.frames:
        if frame.source == "instance" and frame.kind == AuditKind.INSTANCE_MIGRATED:
            target = frame.payload.get("to_definition")
            diagram = diagrams.get(target) or ProcessDefinition.objects.get(pk=target)
            diagrams[diagram.pk] = diagram
        # Frames share the state dict object until the engine moves; index by identity.
        key = id(frame.states)
        if key not in state_index:
            state_index[key] = len(state_tables)
            state_tables.append(frame.states)
        if frame.source == "instance":
            # Frames share the data dict until the engine moves (a claim changes no data).
            changes = (
                [] if frame.data is previous_data else presenter.changes(previous_data, frame.data)
            )
            previous_data = frame.data
        else:
            # A record's event says what the record is now; the change is against its last one.
            record = {k: v for k, v in frame.payload.items() if k not in HIDDEN_KEYS}
            changes = presenter.changes(previous_record.get(frame.stream, {}), record)
            previous_record[frame.stream] = record
        steps.append(
            {
                "i": frame.index,
                "at": frame.at.isoformat(),
                "when": date_format(timezone.localtime(frame.at), "DATETIME_FORMAT"),
                "who": presenter.people.get(frame.actor, frame.actor) if frame.actor else "",
                "user": frame.actor,
                "role": presenter.role(frame),
                "origin": _origin_text(frame.payload),
                "what": presenter.change_name(frame.label)
                if frame.source == "record"
                else frame.label,
                "kind": frame.kind,
                "element": presenter.names.get(frame.element_id, frame.element_id),
                "element_id": frame.element_id,
                "source": frame.source,
                "stream": frame.stream,
                "sequence": frame.sequence,
                "states": state_index[key],
                "changes": changes,
                "deadlines": presenter.deadlines(frame),
                "problem": frame.replay_problem,
                "diagram": diagram.pk,
            }
        )
    return {
        "instance": history.instance.pk,
        "states": state_tables,
        "steps": steps,
        "documents": _documents(history),
        "problem": history.replay_problem,
        "labels": presenter.labels,
        "diagrams": {
            str(pk): {
                "url": reverse("portal:definition-xml", args=[pk]),
                "version": definition.version,
            }
            for pk, definition in diagrams.items()
        },
    }


def _documents(history: CaseHistory) -> list[dict]:
    return [
        {
            "name": d.filename,
            "at": d.uploaded_at.isoformat(),
            "when": date_format(timezone.localtime(d.uploaded_at), "DATETIME_FORMAT"),
            "by": (d.uploaded_by.get_full_name() or d.uploaded_by.get_username())
            if d.uploaded_by
            else "",
            "sha256": d.sha256,
            "url": reverse("portal:document", args=[d.pk]),
        }
        for d in documents_of(history.instance)
    ]


def steps_of_breaks(document: dict, breaks) -> list[dict]:
    """Each chain break with the step (1-based) it is shown at, when that event is a step."""
    where = {(s["stream"], s["sequence"]): s["i"] + 1 for s in document["steps"]}
    return [
        {
            "stream": b.stream,
            "sequence": b.sequence,
            "message": b.message,
            "step": where.get((b.stream, b.sequence)),
        }
        for b in breaks
    ]


@dataclass(frozen=True)
class ReplayView:
    """What the replay page shows, apart from the chain check (which is always run afresh)."""

    document: dict
    streams: tuple[str, ...]
    mismatch_step: int | None  # 1-based
    mismatch_problem: str
    final_differences: list[str]

    @property
    def reproduces(self) -> bool:
        return self.mismatch_step is None and not self.final_differences


def _cache_key(instance) -> str:
    """Changes whenever anything the replay is built from changes: a new event on any chain
    shown, the stored state (even altered behind the engine's back), the reader's language."""
    records = extensions.case_records(instance)
    heads = list(
        AuditHead.objects.filter(stream__in=records.streams)
        .order_by("stream")
        .values_list("stream", "head")
    )
    state = ProcessInstance.objects.values_list("serialized_state", "audit_head").get(
        pk=instance.pk
    )
    fingerprint = hashlib.sha256(
        json.dumps(
            [state[0], state[1], heads, [(e.source, e.sequence) for e in records.events]],
            ensure_ascii=False,
        ).encode()
    ).hexdigest()
    return f"fuzhu:replay:{instance.pk}:{get_language()}:{fingerprint}"


def findings_reader(history: CaseHistory) -> Reader:
    """Where a replay disagrees, said with the names the auditor knows: the diagram's step
    names (of every version the case ran on) and the forms' field labels."""
    names = element_names(initial_definition(history.instance))
    names.update(element_names(history.instance.definition))
    return Reader(names, data_labels(history.instance.definition))


def replay_view(instance) -> ReplayView:
    """The replay of a case, re-executed only when something it is built from has changed (a
    long case takes seconds to re-execute; an auditor opens it many times)."""
    key = _cache_key(instance)
    view = cache.get(key)
    if view is None:
        with collector_paused():  # the document is built over the whole history, too
            view = _replay_view(instance)
        cache.set(key, view, timeout=24 * 3600)
    return view


def _replay_view(instance) -> ReplayView:
    history = case_history(instance=instance)
    mismatch = next((f for f in history.frames if f.replay_problem), None)
    reader = findings_reader(history)
    if mismatch is None:
        problem = ""
    elif mismatch.disagreement is not None:
        problem = reader.disagreement(mismatch.disagreement)
    else:
        problem = mismatch.replay_problem
    return ReplayView(
        document=replay_document(history),
        streams=history.streams,
        mismatch_step=mismatch.index + 1 if mismatch else None,
        mismatch_problem=problem,
        final_differences=reader.differences(history.final_findings) or history.final_differences,
    )
