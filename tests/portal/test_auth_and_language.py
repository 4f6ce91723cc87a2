"""Log-in, log-out, throttling, idle sessions, every page behind the log-in, languages."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

PAGES = [
    "/",
    "/tasks/1/",
    "/start/",
    "/start/x/",
    "/cases/",
    "/cases/1/",
    "/documents/1/",
    "/definitions/1/diagram.bpmn",
    "/ops/",
    "/ops/instances/",
    "/ops/procedures/x/",
    "/audit/",
    "/audit/cases/1/",
    "/audit/cases/1/history.json",
    "/audit/cases/1/history.pdf",
    "/modeler/",
    "/medication/",
]


@pytest.mark.parametrize("url", PAGES)
def test_every_page_needs_a_log_in(db, url):
    response = Client().get(url)
    assert response.status_code == 302 and response.url.startswith("/login/?next=")


def test_log_in_and_log_out(township_a):
    client = Client()
    response = client.post("/login/", {"username": "township_a", "password": "pw-township_a"})
    assert response.status_code == 302 and response.url == "/"
    assert client.get("/").status_code == 200
    client.post("/logout/")
    assert client.get("/").status_code == 302


def test_failed_log_ins_are_throttled(township_a, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    for _ in range(3):
        response = client.post("/login/", {"username": "township_a", "password": "wrong"})
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()
    # Locked: even the right password is refused until the cool-off ends.
    right = client.post("/login/", {"username": "township_a", "password": "pw-township_a"})
    assert right.status_code == 429


def test_a_session_ends_after_the_configured_idle_time(township_a, settings):
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    client = Client()
    client.post("/login/", {"username": "township_a", "password": "pw-township_a"})
    idle = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    with time_machine.travel(timezone.now() + idle - timedelta(minutes=1)):
        assert client.get("/").status_code == 200  # activity renews the session
    with time_machine.travel(timezone.now() + 2 * idle):
        assert client.get("/").status_code == 302


def test_chinese_by_default_and_english_by_choice(township_a):
    client = Client()
    client.force_login(township_a)
    assert "待办" in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = client.get("/").content.decode()
    assert "Inbox" in body and "My tasks" in body and 'lang="en"' in body


def test_dates_are_shown_in_the_chinese_format(start_case, township_a, client_for):
    instance = start_case(township_a)
    body = client_for(township_a).get(f"/cases/{instance.pk}/").content.decode()
    local = timezone.localtime(instance.created_at)
    assert f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}" in body
