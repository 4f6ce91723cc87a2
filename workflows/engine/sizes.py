"""How big a value really is, measured without ever building it.

A list can hold the same inner list many times (``[[0] * 10_000] * 3_000`` is 3,000 references
to one list), so its memory is small while its text, its comparison and its saved JSON are 30
million items long. The walks here count what those operations would meet, and stop as soon as
the count passes the budget: measuring a value never costs more than the budget itself.
"""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import repeat

# Values a walk does not need to open: their size is one item (or a short text).
_SCALARS = frozenset({int, float, bool, type(None), Decimal, date, datetime, time, timedelta})
_COLLECTIONS = (list, tuple, set, frozenset)
_NESTING = (*_COLLECTIONS, dict)
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def logical_items(value, budget: int) -> int:
    """Items (characters, for texts) that ``value`` holds, each shared part counted every time
    it appears; a number above ``budget`` once the walk passes it (not the exact total)."""
    total = 0
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, str | bytes):
            total += len(current)
        elif isinstance(current, _COLLECTIONS):
            total += len(current) + _open_items(current, stack)
        elif isinstance(current, dict):
            total += len(current) + _open_items(current.keys(), stack)
            total += _open_items(current.values(), stack)
        else:
            total += 1
        if total > budget:
            return total
    return total


def _open_items(items, stack: list) -> int:
    """The texts' length of a flat collection, in one C-level pass; or its items, to walk."""
    kinds = set(map(type, items))
    if kinds <= _SCALARS:
        return 0
    if kinds <= {str}:
        return sum(map(len, items))
    stack.extend(items)
    return 0


class TooDeep(Exception):
    """A value nested deeper than allowed: json.dumps and deepcopy would recurse past Python's
    limit (a script can nest a list in a list 50,000 times in a few milliseconds)."""


def json_bytes(value, budget: int, max_depth: int = 1_000) -> int:
    """About how many bytes ``value`` takes as the engine's JSON (json.dumps's defaults); a
    number above ``budget`` once the walk passes it. TooDeep past ``max_depth`` levels."""
    total = 0
    stack = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > max_depth and isinstance(current, _NESTING):
            raise TooDeep
        if isinstance(current, _COLLECTIONS):
            total += 2 + 2 * len(current) + _flat_json_bytes(current, stack, depth)  # [, , ]
        elif isinstance(current, dict):
            total += 2 + 4 * len(current)  # braces, colons, commas and spaces
            total += _flat_json_bytes(current.keys(), stack, depth)
            total += _flat_json_bytes(current.values(), stack, depth)
        else:
            total += _scalar_json_bytes(current)
        if total > budget:
            return total
    return total


def _flat_json_bytes(items, stack: list, depth: int) -> int:
    """Numbers or texts in a few C-level passes; any other items are left to the walk."""
    kinds = set(map(type, items))
    if kinds <= {int, bool}:  # their digits (signs aside)
        return sum(map(int.bit_length, items)) * 30103 // 100000 + len(items)
    if kinds <= {float, bool, type(None)}:
        return 24 * len(items)  # the longest a float's text gets
    if kinds == {str}:  # a form's answers, a dict's keys: measured as one text
        return _scalar_json_bytes("".join(items)) + 2 * (len(items) - 1)
    stack.extend(zip(items, repeat(depth + 1)))
    return 0


def _scalar_json_bytes(value) -> int:
    if isinstance(value, str):
        # Saved with its quotes, by json.dumps's default: every non-ASCII character (every
        # Chinese one) as a six-byte \uXXXX escape.
        if value.isascii():
            return len(value) + 2
        return len(value) + 2 + 5 * (len(value) - len(value.encode("ascii", "ignore")))
    if isinstance(value, bool | None):
        return 5
    if isinstance(value, int):
        return value.bit_length() * 30103 // 100000 + 1 + (value < 0)  # its digits
    if isinstance(value, float):
        return len(repr(value))
    return len(str(value)) + 16  # a date, a Decimal ...: its text, with the type's name


def resident_bytes() -> int | None:
    """The memory this process occupies now (Linux); None where the system does not say."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * _PAGE_SIZE
