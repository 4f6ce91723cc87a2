"""System checks: a broken process pack is reported at start-up, before a user meets it."""

from __future__ import annotations

from pathlib import Path

from django.core.checks import Error, Tags, register

from . import conf


@register(Tags.compatibility)
def check_process_pack(app_configs, **kwargs):
    from .services.definitions import definition_check

    errors = []
    for directory in conf.get("PROCESS_DIRS"):
        for path in sorted(Path(directory).glob("*.bpmn")):
            _, problems, _ = definition_check(content=path.read_bytes())
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
