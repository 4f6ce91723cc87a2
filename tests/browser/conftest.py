"""Browser tests: Playwright (sync API) driving Debian's Chromium against Django's live server.

Chromium comes from Debian (``apt-get install chromium``), never from Playwright's download;
the flags keep it off the network. Screenshots go to ``var/screenshots/`` for reviewers. In CI
(CI=true) a missing Chromium fails the run instead of skipping these tests.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.portal.conftest import PACK, renewal, start_case  # noqa: F401 (shared fixtures)

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "var" / "screenshots"
PASSWORD_PREFIX = "pw-"  # tests.conftest.make_user gives every user "pw-<username>"


def pytest_collection_modifyitems(config, items):
    browser_items = [item for item in items if "browser" in item.keywords]
    if not browser_items or (Path(CHROMIUM).exists() or shutil.which("chromium")):
        return
    if os.environ.get("CI") == "true":
        raise pytest.UsageError(f"CI must run the browser tests: no Chromium at {CHROMIUM}")
    for item in browser_items:
        item.add_marker(
            pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")
        )


@pytest.fixture(autouse=True)
def _pack_forms_for_browser(settings, _workflow_settings):
    settings.WORKFLOWS = {
        **settings.WORKFLOWS,
        "FORM_DIRS": [PACK / "forms", Path(__file__).parent.parent / "fixtures" / "forms"],
    }


@pytest.fixture(scope="session")
def browser():
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # between browser steps are still plain synchronous calls.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.base = live_server.url
    # Confirmations before irreversible steps are answered yes, and kept for the test to read.
    page.questions = []

    def answer(dialog):
        page.questions.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    yield page
    context.close()


def log_in(page, user) -> None:
    page.goto(page.base + "/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD_PREFIX + user.username)
    page.click("button[type=submit]")
    # Staff land on their inbox; an auditor, who has none, on the audit area.
    page.wait_for_url(lambda url: not url.startswith(page.base + "/login/"))


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
