#!/usr/bin/env python3
"""Verify an audit chain exported from Fuzhu, without Fuzhu: only the Python standard library.

    python3 tools/verify_audit_export.py case-123-history.json

Recomputes every event's hash from its fields and checks that each event names the previous
one's hash and that the sequence has no gap. Prints OK, or the first event that does not fit,
and exits 0 or 1. The rule is the one in the export's ``hash_rule``: sha256 of the compact JSON
(sorted keys, UTF-8) of [stream, sequence, created_at, actor, kind, task_id, element_id,
payload, previous_hash].
"""

from __future__ import annotations

import hashlib
import json
import sys


def event_hash(stream: str, event: dict) -> str:
    body = [
        stream,
        event["sequence"],
        event["created_at"],
        event["actor"],
        event["kind"],
        event["task_id"],
        event["element_id"],
        event["payload"],
        event["previous_hash"],
    ]
    blob = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def verify(export: dict) -> str | None:
    """None when the chain is intact, else what is wrong and where."""
    previous, expected = "", 1
    for event in export["events"]:
        where = f"event {event['sequence']}"
        if event["sequence"] != expected:
            return f"event {expected} is missing (found {event['sequence']} next)"
        if event["previous_hash"] != previous:
            return f"{where}: its previous hash does not match event {expected - 1}"
        if event_hash(export["stream"], event) != event["hash"]:
            return f"{where}: its content was altered"
        previous, expected = event["hash"], expected + 1
    return None


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as handle:
        export = json.load(handle)
    problem = verify(export)
    count = len(export["events"])
    if problem:
        print(f"BROKEN {export['stream']}: {problem}")
        return 1
    print(f"OK {export['stream']}: {count} events, the chain is intact")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
