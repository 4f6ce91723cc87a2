"""Every message marked for people has its zh-Hans text: the catalogue is rebuilt from the source
(as ``makemessages`` would, in a copy of the tree) and nothing may be left untranslated or fuzzy,
nothing marked may be missing from the repository's catalogue, and the compiled catalogue must
be the one the repository holds."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = Path("locale") / "zh_Hans" / "LC_MESSAGES" / "django.po"
SKIPPED = {".git", ".venv", "node_modules", "var", "dist", "__pycache__", ".pytest_cache"}


@pytest.fixture(scope="module")
def rebuilt() -> polib.POFile:
    if shutil.which("xgettext") is None:
        pytest.fail("GNU gettext is needed to check the catalogue (apt-get install gettext)")
    copy = Path(os.environ.get("TMPDIR", "/tmp")) / f"fuzhu-catalogue-{os.getpid()}"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(ROOT, copy, ignore=lambda _d, names: [n for n in names if n in SKIPPED])
    try:
        subprocess.run(
            [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete"]
            + [f"--ignore={name}" for name in sorted(SKIPPED)],
            cwd=copy,
            check=True,
            capture_output=True,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        )
        yield polib.pofile(str(copy / CATALOGUE))
    finally:
        shutil.rmtree(copy, ignore_errors=True)


def test_every_marked_message_has_its_chinese_text(rebuilt):
    untranslated = [entry.msgid for entry in rebuilt.untranslated_entries()]
    fuzzy = [entry.msgid for entry in rebuilt.fuzzy_entries()]
    assert untranslated == [], "marked for translation, without zh-Hans text"
    assert fuzzy == [], "zh-Hans text guessed by makemessages (fuzzy): check and confirm it"


def test_nothing_marked_is_missing_from_the_repository_catalogue(rebuilt):
    ours = {entry.msgid for entry in polib.pofile(str(ROOT / CATALOGUE))}
    missing = sorted(entry.msgid for entry in rebuilt if entry.msgid not in ours)
    assert missing == []


def test_the_compiled_catalogue_is_up_to_date(tmp_path):
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "-o", compiled, ROOT / CATALOGUE], check=True)
    assert compiled.read_bytes() == (ROOT / CATALOGUE).with_suffix(".mo").read_bytes()
