"""The engine's words for people, translated by the host.

The engine stays free of Django: the host hands its ``gettext`` to ``install`` at start-up
(workflows.limits), and until then the words are the English originals. Messages are written as
``_("...") % {...}`` so the catalog holds one entry per sentence, not one per value.
"""

from __future__ import annotations

from collections.abc import Callable

_translate: Callable[[str], str] = str


def install(translate: Callable[[str], str]) -> None:
    global _translate
    _translate = translate


def _(text: str) -> str:
    return _translate(text)
