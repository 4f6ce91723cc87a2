"""Every string the portal shows is in the zh-Hans catalog, translated (makemessages is clean)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
TEMPLATE_STRING = re.compile(r'{%\s*(?:translate|trans)\s+"([^"]+)"')
PYTHON_STRING = re.compile(r'(?<![A-Za-z_])(?:_|gettext|gettext_lazy)\(\s*"([^"]+)"')


def catalog() -> dict[str, str]:
    entries, msgid, fuzzy = {}, None, False
    text = PO.read_text(encoding="utf-8")
    for block in text.split("\n\n"):
        fuzzy = "#, fuzzy" in block
        ids = re.findall(r'^msgid "(.*)"$', block, re.M)
        strs = re.findall(r'^msgstr(?:\[0\])? "(.*)"$', block, re.M)  # plurals: the first form
        if not ids or block.lstrip().startswith("#~"):
            continue
        msgid = "".join(re.findall(r'^msgid "(.*)"\n((?:".*"\n)*)', block + "\n", re.M)[0])
        msgid = ids[0] + "".join(
            re.findall(r'^"(.*)"$', block.split("msgstr")[0].split("msgid_plural")[0], re.M)
        )
        msgstr = strs[0] + "".join(re.findall(r'^"(.*)"$', block.split("msgstr", 1)[1], re.M))
        entries[msgid] = "" if fuzzy else msgstr
    return entries


def portal_strings() -> set[str]:
    found = set()
    for path in (ROOT / "portal").rglob("*.html"):
        found |= set(TEMPLATE_STRING.findall(path.read_text(encoding="utf-8")))
    for path in [*(ROOT / "portal").rglob("*.py"), ROOT / "workflows" / "forms.py"]:
        found |= set(PYTHON_STRING.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_portal_string_has_a_chinese_translation():
    entries = catalog()
    missing = sorted(s for s in portal_strings() if not entries.get(s))
    assert missing == []


def test_the_compiled_catalog_is_up_to_date():
    mo = PO.with_suffix(".mo")
    assert mo.exists() and mo.stat().st_size > 0
    assert mo.stat().st_mtime >= PO.stat().st_mtime - 5
