"""System checks: a broken process pack is reported at start-up, before a user meets it."""

from __future__ import annotations

from pathlib import Path

from django.core.checks import Error, Tags, register
from django.db import DatabaseError

from . import conf


@register(Tags.compatibility)
def check_process_pack(app_configs, **kwargs):
    try:
        return _pack_errors()
    except DatabaseError:
        # The checks compare with deployed versions; before `migrate` has brought the tables
        # up to date (it runs these checks too) they cannot be read: checked on the next start.
        return []


def _pack_errors() -> list[Error]:
    from .services.decisions import file_decisions
    from .services.definitions import definition_check

    errors = []
    for directory in conf.get("PROCESS_DIRS"):
        for path in sorted(Path(directory).glob("*.bpmn")):
            content = path.read_bytes()
            # The pack's own tables, as deploy_processes would deploy them.
            _, problems, _ = definition_check(content=content, decisions=file_decisions(content))
            for problem in problems:
                if "is not deployed" in problem.message:
                    continue  # called processes are deployed together by deploy_processes
                errors.append(
                    Error(
                        f"{path.name}: {problem.message}",
                        hint=f"element {problem.element or '-'}, line {problem.line or '-'}",
                        id="workflows.E001",
                    )
                )
    return errors
