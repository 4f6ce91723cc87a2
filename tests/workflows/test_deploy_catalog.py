"""Every deploy message (engine checks, rules, the host's checks) has its zh-Hans translation."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.portal.test_catalog_is_translated import catalog

ROOT = Path(__file__).resolve().parent.parent.parent
MODULES = [
    "workflows/engine/naming.py",
    "workflows/engine/parser.py",
    "workflows/engine/rule_elements.py",
    "workflows/engine/rule_flows.py",
    "workflows/engine/rules.py",
    "workflows/engine/timeexpr.py",
    "workflows/engine/validation.py",
    "workflows/engine/wording.py",
    "workflows/services/deploy_checks.py",
    "workflows/exceptions.py",
]


def _messages(path: Path) -> set[str]:
    """The literal msgids of gettext/_/pgettext calls (implicitly joined strings included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        args = node.args[1:] if node.func.id == "pgettext" else node.args
        literal = args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str)
        if node.func.id in ("_", "gettext", "pgettext") and literal:
            found.add(args[0].value)
    return found


def test_every_deploy_message_has_a_chinese_translation():
    entries = catalog()
    wanted = set().union(*(_messages(ROOT / m) for m in MODULES))
    # The catalog keeps the .po file's escaping of double quotes.
    missing = sorted(m for m in wanted if not entries.get(m.replace('"', '\\"')))
    assert len(wanted) > 100
    assert missing == []
