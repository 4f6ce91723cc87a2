"""Celery workers and beats as subprocesses, and what the test handler left behind."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]
BROKER_URL = "redis://127.0.0.1:6379/5"
SWEEP_SECONDS = 1
LEASE_SECONDS = 5
READY_MARKS = {"worker": " ready.", "beat": "beat: Starting..."}


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL naming the same database as ``settings_dict`` (the test database)."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = settings_dict.get("PASSWORD") or ""
    credentials = f"{user}:{quote(password, safe='')}" if password else user
    host = quote(settings_dict.get("HOST") or "127.0.0.1", safe="")
    port = settings_dict.get("PORT") or "5432"
    name = quote(settings_dict["NAME"], safe="")
    return f"postgresql://{credentials}@{host}:{port}/{name}"


class Cluster:
    """Celery workers and beats started for one test, each logging to its own file."""

    def __init__(self, workdir: Path, env: dict[str, str]):
        self.workdir = workdir
        self.env = env
        self.processes: dict[str, subprocess.Popen] = {}
        self.roles: dict[str, str] = {}
        self.killed: set[str] = set()

    def start(self, role: str, name: str) -> None:
        command = [sys.executable, "-m", "celery", "-A", "config", role, "--loglevel", "info"]
        if role == "worker":
            command += [
                "--pool=solo",
                "--concurrency=1",  # so it prefetches one message, like a prefork child
                f"--hostname={name}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ]
        with open(self.log_path(name), "wb") as log:
            self.processes[name] = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self.roles[name] = role

    def wait_ready(self, timeout: float = 60) -> None:
        """Wait until every process has said it is ready; fail (with its log) if one died."""
        deadline = time.monotonic() + timeout
        waiting = {name for name in self.processes if name not in self.killed}
        while waiting:
            self.assert_alive()
            waiting = {
                name for name in waiting if READY_MARKS[self.roles[name]] not in self.log(name)
            }
            if waiting and time.monotonic() > deadline:
                raise AssertionError(f"{sorted(waiting)} not ready after {timeout} s")
            time.sleep(0.2)

    def pid(self, name: str) -> int:
        return self.processes[name].pid

    def name_of(self, pid: int) -> str:
        return next(name for name, process in self.processes.items() if process.pid == pid)

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown, no acknowledgement, no clean-up — a worker that vanished."""
        self.processes[name].send_signal(signal.SIGKILL)
        self.processes[name].wait(timeout=10)
        self.killed.add(name)

    def assert_alive(self) -> None:
        for name, process in self.processes.items():
            if name not in self.killed and process.poll() is not None:
                raise AssertionError(f"{name} exited with {process.returncode}:\n{self.log(name)}")

    def stop(self) -> None:
        """SIGTERM (a warm shutdown), then SIGKILL whatever is still running after 15 s."""
        running = [p for p in self.processes.values() if p.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def log_path(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def log(self, name: str) -> str:
        return self.log_path(name).read_text(errors="replace")

    def logs(self) -> dict[str, str]:
        return {name: self.log(name) for name in self.processes}


class HandlerRecord:
    """What tests.integration.handlers wrote: one line per call, one receipt per ticket."""

    def __init__(self, directory: Path):
        self.directory = directory
        (directory / "receipts").mkdir(parents=True)

    def calls(self) -> list[tuple[str, int]]:
        path = self.directory / "calls.log"
        lines = path.read_text().splitlines() if path.exists() else []
        return [(ticket, int(pid)) for ticket, pid in (line.split() for line in lines)]

    def call_counts(self) -> Counter:
        return Counter(ticket for ticket, _ in self.calls())

    def receipts(self) -> dict[str, int]:
        return {p.name: int(p.read_text()) for p in (self.directory / "receipts").iterdir()}


def wait_until(condition: Callable, *, timeout: float, what: str, cluster: Cluster | None = None):
    """Poll ``condition`` (real processes, real time) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if cluster is not None:
            cluster.assert_alive()
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.25)
