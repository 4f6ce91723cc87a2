"""Where and how a re-execution parts from the record, and how an auditor reads it.

The replay (services/replay.py) finds *what* differs in engine terms: an element's state, a
variable, a task only on one side. This module keeps those findings as data and says them in
the reader's language with the diagram's step names and the forms' field labels, never with
task UUIDs or engine class names: the auditor must be able to tell the county which step of the
case to look at.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import AuditKind


@dataclass(frozen=True)
class Difference:
    """One thing that is not the same. ``aspect``:

    * ``state``: an element's state after the event (``replayed``/``recorded``: state codes)
    * ``variable``: a case variable after the event (``replayed``: the value the replay has;
      the record keeps only a fingerprint of its own)
    * ``only_recorded`` / ``only_replayed``: tasks of an element on one side only (``count``)
    * ``task_state``: tasks of an element in another state (``replayed``/``recorded``: codes)
    * ``task_data``: tasks of an element with other data (``variables``: the keys that differ)
    """

    aspect: str
    element: str = ""
    replayed: str = ""
    recorded: str = ""
    variable: str = ""
    count: int = 1
    variables: tuple[str, ...] = ()


@dataclass(frozen=True)
class Disagreement:
    """The first event a re-execution could not follow as recorded. ``reason``:

    * ``state``: the state it produced differs from the recorded one (``differences`` say how)
    * ``not_ready``: the task the event completes is not waiting in the replay
    * ``not_waiting``: the case does not wait for the message or signal the event delivered
    * ``failed``: the diagram's code failed (``detail``: the engine's message)
    * ``no_handler_result``: the event ran a handler whose result it did not record
    * ``no_start``: the history has no start event
    * ``no_digest``: the event records no digest of the state it produced
    * ``version_missing``: the version the event moved the case to is not deployed
    * ``move_refused``: that move cannot be repeated (``detail``)
    """

    sequence: int
    kind: str
    element: str
    reason: str
    detail: str = ""
    differences: tuple[Difference, ...] = field(default_factory=tuple)
    summary_recorded: bool = True  # False: an older event, recorded without a state summary
    failed_at: str = ""  # the step that failed inside the event's run, if not the event's own

    @property
    def applied(self) -> bool:
        """The event itself could be re-run (only its outcome differs): the replay goes on."""
        return self.reason in ("state", "no_digest")


def state_name(code: str) -> str:
    return {
        "active": _("active"),
        "waiting": _("waiting"),
        "completed": _("completed"),
        "cancelled": _("cancelled"),
        "incident": _("incident"),
        "": _("not reached"),
    }.get(code, code)


def _task_state_name(code: str) -> str:
    """SpiffWorkflow's task state names, as an auditor says them."""
    return {
        "READY": _("active"),
        "STARTED": _("active"),
        "WAITING": _("waiting"),
        "COMPLETED": _("completed"),
        "CANCELLED": _("cancelled"),
        "ERROR": _("incident"),
        "FUTURE": _("not reached"),
        "LIKELY": _("not reached"),
        "MAYBE": _("not reached"),
    }.get(code, code)


class Reader:
    """Says findings with the names of one procedure's steps and variables."""

    def __init__(self, names: dict[str, str], labels: dict[str, str] | None = None):
        self.names = names
        self.labels = labels or {}

    def step(self, element: str) -> str:
        name = self.names.get(element)
        if name:
            return f"「{name}」"
        return _("the engine's own steps")

    def variable(self, key: str) -> str:
        label = self.labels.get(key)
        return f"「{label}」" if label else f"「{key}」"

    def event(self, disagreement: Disagreement) -> str:
        kinds = dict(AuditKind.choices)
        what = str(kinds.get(disagreement.kind, disagreement.kind))
        where = f"{self.step(disagreement.element)}" if disagreement.element else ""
        return _("Event %(n)d (%(what)s%(where)s)") % {
            "n": disagreement.sequence,
            "what": what,
            "where": f" {where}" if where else "",
        }

    def difference(self, d: Difference) -> str:
        step = self.step(d.element)
        if d.aspect == "state":
            return _("%(step)s is %(replayed)s in the re-execution, %(recorded)s in the record") % {
                "step": step,
                "replayed": state_name(d.replayed),
                "recorded": state_name(d.recorded),
            }
        if d.aspect == "variable":
            if not d.recorded:
                return _(
                    "%(var)s is %(value)s in the re-execution; the record has no such value"
                ) % {
                    "var": self.variable(d.variable),
                    "value": _short(d.replayed),
                }
            if not d.replayed:
                return _("%(var)s is in the record but not in the re-execution") % {
                    "var": self.variable(d.variable)
                }
            return _("%(var)s is %(value)s in the re-execution, another value in the record") % {
                "var": self.variable(d.variable),
                "value": _short(d.replayed),
            }
        if d.aspect == "only_recorded":
            return ngettext(
                "%(step)s: %(n)d task is in the stored case but not in the re-execution",
                "%(step)s: %(n)d tasks are in the stored case but not in the re-execution",
                d.count,
            ) % {"step": step, "n": d.count}
        if d.aspect == "only_replayed":
            return ngettext(
                "%(step)s: %(n)d task is in the re-execution but not in the stored case",
                "%(step)s: %(n)d tasks are in the re-execution but not in the stored case",
                d.count,
            ) % {"step": step, "n": d.count}
        if d.aspect == "task_state":
            return _(
                "%(step)s is %(replayed)s in the re-execution, %(recorded)s in the stored case"
            ) % {
                "step": step,
                "replayed": _task_state_name(d.replayed),
                "recorded": _task_state_name(d.recorded),
            }
        if d.aspect == "task_data":
            return _("%(step)s: the data differ from the stored case (%(vars)s)") % {
                "step": step,
                "vars": "、".join(self.variable(v) for v in d.variables) or "—",
            }
        return d.aspect

    def differences(self, found: list[Difference]) -> list[str]:
        """One line per difference; the engine's own tasks (start, join, end markers), which
        have no step in the diagram, are taken together in one line per kind."""
        lines, internal = [], {}
        for d in found:
            if d.element and d.element in self.names:
                lines.append(self.difference(d))
            else:
                key = (d.aspect, d.replayed, d.recorded)
                merged = internal.get(key)
                internal[key] = (
                    d
                    if merged is None
                    else Difference(
                        d.aspect,
                        "",
                        d.replayed,
                        d.recorded,
                        d.variable,
                        merged.count + d.count,
                        tuple(sorted(set(merged.variables) | set(d.variables))),
                    )
                )
        return lines + [self.difference(d) for d in internal.values()]

    def no_start(self) -> str:
        return _("the history has no start event")

    def disagreement(self, d: Disagreement) -> str:
        return f"{self.event(d)}：{self._body(d)}"

    def _body(self, d: Disagreement) -> str:
        if d.reason == "state":
            if d.differences:
                return "；".join(self.difference(x) for x in d.differences)
            if not d.summary_recorded:
                return _(
                    "the state it produces differs from the state recorded (this older event "
                    "kept no summary to say where)"
                )
            return _(
                "the state it produces differs from the state recorded, in the data of steps "
                "finished earlier"
            )
        step = self.step(d.failed_at or d.element)
        values = {"step": step, "what": f"「{d.detail}」", "message": d.detail}
        texts = {
            "not_ready": _("%(step)s is not waiting to be done when the re-execution reaches it"),
            "not_waiting": _("the case does not wait for %(what)s in the re-execution"),
            "failed": _("%(step)s fails in the re-execution: %(message)s"),
            "no_handler_result": _(
                "%(step)s ran an automatic step whose result the record does not hold"
            ),
            "no_start": _("the history has no start event"),
            "no_digest": _("the event records no fingerprint of the state it produced"),
            "version_missing": _("the version the case was moved to is not deployed"),
            "move_refused": _("the move to another version cannot be repeated: %(message)s"),
        }
        text = texts.get(d.reason)
        return text % values if text else (d.detail or d.reason)


def _short(value: str, limit: int = 60) -> str:
    return f"“{value if len(value) <= limit else value[: limit - 1] + '…'}”"


def shown_value(value) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def final_differences(replayed: list[dict], stored: list[dict]) -> list[Difference]:
    """The replayed end against the stored state, per step (a step's many tasks — a
    multi-instance over fifteen townships — make one line, not fifteen)."""
    stored_by_id = {t["id"]: t for t in stored}
    replayed_by_id = {t["id"]: t for t in replayed}
    counted: Counter = Counter()
    data_keys: dict[str, set[str]] = {}
    # In the order the case ran (the replayed tree's), then what only the stored state has.
    for task_id in [*replayed_by_id, *(i for i in stored_by_id if i not in replayed_by_id)]:
        a, b = replayed_by_id.get(task_id), stored_by_id.get(task_id)
        if a is None or b is None:
            counted[
                ("only_recorded" if a is None else "only_replayed", (a or b)["element"], "", "")
            ] += 1
        elif a["state"] != b["state"]:
            counted[("task_state", a["element"], a["state"], b["state"])] += 1
        elif _canonical(a["data"]) != _canonical(b["data"]):
            keys = {
                k
                for k in set(a["data"]) | set(b["data"])
                if _canonical(a["data"].get(k)) != _canonical(b["data"].get(k))
            }
            data_keys.setdefault(a["element"], set()).update(keys)
    found = [
        Difference(
            aspect, element=element, replayed=replayed_state, recorded=recorded_state, count=n
        )
        for (aspect, element, replayed_state, recorded_state), n in counted.items()
    ]
    found += [
        Difference("task_data", element=element, variables=tuple(sorted(keys)))
        for element, keys in data_keys.items()
    ]
    return found


def _canonical(data) -> str:
    return json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)
