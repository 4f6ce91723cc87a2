"""Real services: Celery workers and beat as subprocesses, on PostgreSQL and Redis.

The workers and beats connect to the test database pytest-django created (its name is passed in
``DATABASE_URL``) and to a Redis database of their own, flushed before each test. Every process is
stopped when its test ends; when a test fails, their logs are attached to its report.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import time
from pathlib import Path

import pytest

from .cluster import (
    BROKER_URL,
    LEASE_SECONDS,
    SWEEP_SECONDS,
    Cluster,
    HandlerRecord,
    database_url,
)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Attach every worker's and beat's log to a failing test's report."""
    report = yield
    cluster = getattr(item, "celery_cluster", None)
    if report.failed and cluster is not None:
        for name, text in cluster.logs().items():
            report.sections.append((f"log of {name}", text[-30000:]))
    return report


@contextlib.contextmanager
def exclusive_broker(timeout: float = 300):
    """Only one test session on this machine uses the Redis database at a time: another one's
    workers would take this session's messages (job ids mean nothing in another database).
    The lock is a file lock, so it goes with the process that held it, however that ends."""
    path = Path(tempfile.gettempdir()) / "fuzhu-integration-redis-5.lock"
    with open(path, "w") as lock:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(f"another test session held {BROKER_URL} for {timeout} s")
                time.sleep(0.5)
        yield


@pytest.fixture
def broker():
    """The Redis database the cluster uses, ours alone and emptied; a clear failure if Redis is
    not running."""
    import redis

    with exclusive_broker(), redis.Redis.from_url(BROKER_URL, socket_connect_timeout=2) as client:
        try:
            client.flushdb()
        except redis.exceptions.ConnectionError as exc:
            pytest.fail(
                f"Redis is not running at {BROKER_URL} ({exc}); start it (see README) — "
                "the integration tests need it",
                pytrace=False,
            )
        yield BROKER_URL
        client.flushdb()


@pytest.fixture
def handler_record(tmp_path) -> HandlerRecord:
    return HandlerRecord(tmp_path / "handler")


@pytest.fixture
def cluster(request, transactional_db, broker, handler_record, tmp_path):
    """Two workers and one beat on the real broker and the test database, ready to work.

    Depending on ``transactional_db`` makes the processes stop before pytest-django empties
    the tables (and before it drops the test database at the end of the session)."""
    from django.db import connection

    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "FUZHU_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DJANGO_DEBUG="0",
        DATABASE_URL=database_url(connection.settings_dict),
        CELERY_BROKER_URL=broker,
        FUZHU_JOB_DISPATCH="celery",
        FUZHU_SWEEP_SECONDS=str(SWEEP_SECONDS),
        FUZHU_JOB_LEASE_SECONDS=str(LEASE_SECONDS),
        FUZHU_EXTRA_HANDLER_MODULES="tests.integration.handlers",
        FUZHU_IT_OUTPUT_DIR=str(handler_record.directory),
        FUZHU_VAR_DIR=str(tmp_path / "var"),
        LOG_LEVEL="WARNING",
    )
    started = Cluster(tmp_path, env)
    request.node.celery_cluster = started
    request.addfinalizer(started.stop)
    for role, name in (("worker", "worker1"), ("worker", "worker2"), ("beat", "beat1")):
        started.start(role, name)
    started.wait_ready()
    return started
