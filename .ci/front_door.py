"""The front door, as a newcomer meets it: the portal that the README's run command started
answers, and the demo logins see their pages in Chinese.

    python .ci/front_door.py http://127.0.0.1:8000 [--wait 180]

Exits non-zero, naming the page and what was wrong, when anything is not as it should be.
Standard library only: it checks the server from outside, as a browser would."""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

DEMO_PASSWORD = "fuzhu-demo-2025"
CASE_LINK = r'"/audit/cases/\d+/"'
PROCEDURES = (
    "medication_subsidy_cycle",
    "petition_first_receiver",
    "certificate_renewal",
    "assistive_device_fitting",
)


class FrontDoorShut(Exception):
    pass


class Visitor:
    """One person's browser: its own cookies, Chinese first."""

    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        self.opener.addheaders = [("Accept-Language", "zh-Hans,zh;q=0.9")]

    def get(self, path: str) -> tuple[int, str, str]:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, fields: dict[str, str]) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(self.base + path, data=body, method="POST")
        request.add_header("Referer", self.base + path)
        return self._open(request)

    def _open(self, request) -> tuple[int, str, str]:
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.geturl(), response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            return error.code, request.full_url, error.read().decode("utf-8", "replace")

    def log_in(self, username: str) -> None:
        status, _, page = self.get("/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or token is None:
            raise FrontDoorShut(f"/login/: {status}, no login form")
        status, landed, page = self.post(
            "/login/",
            {
                "csrfmiddlewaretoken": token.group(1),
                "username": username,
                "password": DEMO_PASSWORD,
            },
        )
        if status != 200 or urllib.parse.urlparse(landed).path.startswith("/login/"):
            raise FrontDoorShut(f"log-in as {username}: {status}, still at {landed}")

    def page(self, path: str, heading: str) -> str:
        """The page at ``path`` is a 200 whose first heading holds ``heading``."""
        status, _, page = self.get(path)
        h1 = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S)
        text = re.sub(r"<[^>]+>", "", h1.group(1)).strip() if h1 else ""
        if status != 200 or heading not in text:
            raise FrontDoorShut(f"{path}: {status}, heading {text!r}, expected {heading!r}")
        print(f"  {status} {path}  {text}")
        return page


def _gone(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def wait_for_login_page(base: str, seconds: float, pid: int | None = None) -> None:
    deadline = time.monotonic() + seconds
    last = "no answer"
    while time.monotonic() < deadline:
        if _gone(pid):
            raise FrontDoorShut("the run command stopped before the portal answered")
        try:
            with urllib.request.urlopen(base.rstrip("/") + "/login/", timeout=10) as response:
                if response.status == 200:
                    return
                last = f"status {response.status}"
        except (urllib.error.URLError, OSError) as error:
            last = str(error)
        time.sleep(2)
    raise FrontDoorShut(f"the login page did not answer within {seconds:.0f} s ({last})")


def first_link(page: str, pattern: str, where: str) -> str:
    found = re.search(pattern, page)
    if found is None:
        raise FrontDoorShut(f"{where}: no link matching {pattern}")
    return found.group(0).strip('"')


def walk(base: str) -> None:
    officer = Visitor(base)
    officer.log_in("township_a")
    print("township_a (township officer):")
    inbox = officer.page("/", "待办")
    task = first_link(inbox, r'"/tasks/\d+/"', "the inbox")
    officer.page(task, "")
    officer.page("/medication/", "困难精神残疾人药费补助")
    status, _, _ = officer.get("/audit/")
    if status != 403:
        raise FrontDoorShut(f"/audit/ for a township officer: {status}, expected 403")
    print("  403 /audit/")

    auditor = Visitor(base)
    auditor.log_in("auditor")
    print("auditor:")
    auditor.page("/modeler/", "流程设计")
    # Every demo case of these procedures replays true: its chain is intact and re-executing it
    # from its recorded inputs reproduces what was stored.
    replayed = 0
    for procedure in PROCEDURES:
        search = auditor.page(f"/audit/?procedure={procedure}", "审计")
        for case in dict.fromkeys(m.strip('"') for m in re.findall(CASE_LINK, search)):
            replay = auditor.page(case, "回放")
            for status in ("chain-status", "replay-status"):
                found = re.search(rf'<p class="(\w+)" id="{status}"[^>]*>(.*?)</p>', replay, re.S)
                if found is None:
                    raise FrontDoorShut(f"{case}: the page shows no {status}")
                if found.group(1) != "ok":
                    said = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(2)))[:300]
                    raise FrontDoorShut(f"{case}: {status} says {said!r}")
            replayed += 1
    if not replayed:
        raise FrontDoorShut("the audit search found no demo case to replay")
    print(f"  {replayed} demo cases replay true")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("--wait", type=float, default=180)
    parser.add_argument("--pid", type=int, help="the run command: stop waiting if it ends")
    args = parser.parse_args()
    try:
        wait_for_login_page(args.base, args.wait, args.pid)
        walk(args.base)
    except FrontDoorShut as shut:
        print(f"THE FRONT DOOR IS SHUT: {shut}", file=sys.stderr)
        return 1
    print("the front door is open")
    return 0


if __name__ == "__main__":
    sys.exit(main())
