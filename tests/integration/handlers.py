"""The service handler the real-services tests run in Celery workers.

Workers load it through ``FUZHU_EXTRA_HANDLER_MODULES=tests.integration.handlers``; the tests
import it only inside a fixture, which unregisters it afterwards (other tests compare messages
that list the registered handlers).

Every call appends a line to ``calls.log`` (so a test counts how often the handler ran), and the
side effect proper — a receipt file per ticket, created exclusively — is idempotent, as handlers
must be: a job retried after its worker died finds its receipt and does not make a second one.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from workflows import extensions

TOPIC = "integration_record"
OUTPUT_DIR_VARIABLE = "FUZHU_IT_OUTPUT_DIR"


def output_dir() -> Path:
    return Path(os.environ[OUTPUT_DIR_VARIABLE])


def record(variables: dict) -> dict:
    """Log the call, make the ticket's receipt once, then take ``sleep_seconds`` if asked."""
    ticket = str(variables["ticket"])
    out = output_dir()
    _append(out / "calls.log", f"{ticket} {os.getpid()}\n")
    receipt = out / "receipts" / ticket
    try:
        fd = os.open(receipt, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        pass  # a retry after a lost worker: the effect already happened
    else:
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
    time.sleep(float(variables.get("sleep_seconds", 0)))
    return {"recorded": ticket}


def _append(path: Path, line: str) -> None:
    # One write() on an O_APPEND descriptor: lines from several processes never interleave.
    fd = os.open(path, os.O_CREAT | os.O_APPEND | os.O_WRONLY)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def register() -> None:
    extensions.service_handler(
        TOPIC, label="集成测试记录", asynchronous=True, max_attempts=3, backoff_seconds=1.0
    )(record)


register()
