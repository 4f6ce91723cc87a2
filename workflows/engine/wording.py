"""Engine errors in the owner's words: what they drew, never what the engine calls it.

SpiffWorkflow's parser and the sandbox speak of specs, SubWorkflow Tasks and Python exceptions;
a process owner sees a diagram. Each known engine message is translated here into what the owner
drew (``子流程“办理”（handling）没有开始事件``) with the element's id, name and line; an unknown
one still names the element, and never shows an object representation.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from .naming import describe

# SpiffWorkflow's own messages (bpmn/parser, camunda/parser), matched at their start.
_ENGINE = (
    (r"No start event found", lambda w, m: _("%(what)s has no start event") % w),
    (
        r"Exactly one start event is required in a SubWorkflow Task; found (\d+)",
        lambda w, m: (
            _("%(what)s must have exactly one start event; it has %(count)s")
            % {**w, "count": m.group(1)}
        ),
    ),
    (
        r"A SubWorkflow Must contain an End event",
        lambda w, m: _("%(what)s has no end event: draw one inside it") % w,
    ),
    (
        r'No "calledElement" attribute for Call Activity',
        lambda w, m: _("%(what)s names no process to call: set its called element") % w,
    ),
    (
        r"Non-default exclusive outgoing sequence flow without condition",
        lambda w, m: (
            _(
                "%(what)s leaves an exclusive gateway without a condition: "
                "write one, or mark it as the default flow"
            )
            % w
        ),
    ),
    (
        r"Conditional event definition with missing condition",
        lambda w, m: _("%(what)s is a conditional event without a condition: write one") % w,
    ),
    (
        r"Expected a Message node",
        lambda w, m: _("%(what)s refers to a message the diagram does not declare") % w,
    ),
    (
        r"Expected a Signal node",
        lambda w, m: _("%(what)s refers to a signal the diagram does not declare") % w,
    ),
    (r"Expected an error node", lambda w, m: _("%(what)s refers to an undeclared error") % w),
    (
        r"Expected an Escalation node",
        lambda w, m: _("%(what)s refers to an undeclared escalation") % w,
    ),
    (
        r"(Unknown Time Specification|Time Specification Error)",
        lambda w, m: _("%(what)s has a timer value that cannot be read") % w,
    ),
    (
        r"A multiinstance task must specify a cardinality or a collection",
        lambda w, m: _("%(what)s repeats, but says neither how often nor over which list") % w,
    ),
    (
        r"Multiple outgoing flows are not supported",
        lambda w, m: _("%(what)s may have only one outgoing flow: fork with a gateway") % w,
    ),
    (
        r"When looking for a task spec, we found two items",
        lambda w, m: (
            _("a sequence flow out of %(what)s leads to an element that does not exist") % w
        ),
    ),
    (
        r"Invalid Script Task\.\s+No Script Provided",
        lambda w, m: _("%(what)s has no script: write one") % w,
    ),
    (
        r"There is no support implemented for this task type",
        lambda w, m: _("%(what)s is a kind of element Fuzhu cannot run") % w,
    ),
    (
        r"Cancel Events may only be used with transactions",
        lambda w, m: _("%(what)s is a cancel event outside a transaction") % w,
    ),
    (r"Duplicate process ID", lambda w, m: _("%(what)s: two processes have this id") % w),
    (
        r"(Message|Signal|Error|Escalation|Correlation) identifier is missing",
        lambda w, m: _("a %(kind)s of the diagram has no id") % {"kind": m.group(1).lower()},
    ),
)

# The sandbox's fixed messages, translated here without touching the sandbox.
_SANDBOX = (
    (r"syntax error: (.*)", lambda m: _("syntax error: %(detail)s") % {"detail": m.group(1)}),
    (
        r"the name '(.*)' is not allowed",
        lambda m: _("the name '%(name)s' is not allowed") % {"name": m.group(1)},
    ),
    (
        r"the attribute '([^']*)' is not allowed(.*)",
        lambda m: _("the attribute '%(name)s' is not allowed") % {"name": m.group(1)} + m.group(2),
    ),
    (r"imports are not allowed", lambda m: _("imports are not allowed")),
    (r"the (expression|script) is empty", lambda m: _("it is empty")),
    (
        r"'=' sets a variable; to compare two values use '=='",
        lambda m: _("'=' sets a variable; to compare two values use '=='"),
    ),
)

# The sandbox's forbidden constructs (sandbox._FORBIDDEN_DESCRIPTIONS), word for word.
_SANDBOX_FIXED = {
    "defining functions is not allowed": lambda: _("defining functions is not allowed"),
    "lambda is not allowed": lambda: _("lambda is not allowed"),
    "defining classes is not allowed": lambda: _("defining classes is not allowed"),
    "with is not allowed": lambda: _("with is not allowed"),
    "while loops are not allowed (use for over a list)": lambda: _(
        "while loops are not allowed (use for over a list)"
    ),
    "try is not allowed": lambda: _("try is not allowed"),
    "raise is not allowed": lambda: _("raise is not allowed"),
    "del is not allowed": lambda: _("del is not allowed"),
    "bytes literals are not allowed": lambda: _("bytes literals are not allowed"),
}

_REPR = re.compile(r"<[^<>]* at 0x[0-9a-fA-F]+>|\b[A-Z][A-Za-z]*(Error|Exception)\((.*)\)")


def sandbox_message(message: str) -> str:
    if message in _SANDBOX_FIXED:
        return _SANDBOX_FIXED[message]()
    for pattern, say in _SANDBOX:
        match = re.fullmatch(pattern, message)
        if match:
            return say(match)
    return message


def plain(text: str) -> str:
    """Text with Python object representations taken out: ``KeyError('x')`` → ``x``."""
    return _REPR.sub(lambda m: m.group(2) or "", text).strip()


def _node(root, element: str):
    if not element:
        return None
    found = root.xpath(".//*[@id=$id]", id=element)
    return found[0] if found else None


def engine_message(root, element: str, message: str) -> str:
    """SpiffWorkflow's message about ``element`` as the owner would put it."""
    node = _node(root, element)
    what = {"what": describe(node) if node is not None else (element or _("the diagram"))}
    for pattern, say in _ENGINE:
        match = re.match(pattern, message)
        if match:
            return say(what, match)
    detail = plain(message)
    return _("%(what)s cannot be run as drawn (%(detail)s)") % {**what, "detail": detail}


def line_of(root, element: str) -> int | None:
    node = _node(root, element)
    return node.sourceline if node is not None else None


def whole_file(root) -> str:
    """Which process a problem of the whole file is about (there may be several in it)."""
    processes = [p for p in root.xpath("./*[local-name()='process']") if isinstance(p.tag, str)]
    return ", ".join(describe(p) for p in processes) or _("the diagram")


__all__ = ["engine_message", "line_of", "plain", "sandbox_message", "whole_file"]
