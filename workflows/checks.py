"""System checks: a broken process pack is reported at start-up, before a user meets it.

``migrate`` runs every check, the database ones included, before it has created a table, so
the pack is checked in two parts: its files alone (at every start), and what it needs from the
database (called processes that are not in the pack), which tolerates missing tables."""

from __future__ import annotations

from pathlib import Path

from django.core.checks import Error, Tags, register
from django.db import DatabaseError, connections

from . import conf


def _pack_files() -> list[Path]:
    return [
        path
        for directory in conf.get("PROCESS_DIRS")
        for path in sorted(Path(directory).glob("*.bpmn"))
    ]


@register(Tags.compatibility)
def check_process_pack(app_configs, **kwargs):
    """Each diagram of the pack, from its files: parse, sandbox, roles, handlers, forms, DMN."""
    from .services.decisions import file_decisions
    from .services.definitions import definition_check

    errors = []
    for path in _pack_files():
        content = path.read_bytes()
        # The pack's own tables, as deploy_processes would deploy them.
        _, problems, _ = definition_check(
            content=content, decisions=file_decisions(content), deployed=False
        )
        errors.extend(
            Error(
                f"{path.name}: {problem.message}",
                hint=f"element {problem.element or '-'}, line {problem.line or '-'}",
                id="workflows.E001",
            )
            for problem in problems
        )
    return errors


def _tables_exist(alias: str, *models) -> bool:
    try:
        with connections[alias].cursor() as cursor:
            tables = set(connections[alias].introspection.table_names(cursor))
    except DatabaseError:
        return False
    return all(model._meta.db_table in tables for model in models)


@register(Tags.database)
def check_called_processes(app_configs, databases=None, **kwargs):
    """A call activity of the pack calls a process that is neither in the pack nor deployed:
    ``deploy_processes`` would refuse the diagram. Skipped while the tables do not exist yet."""
    from .models import ProcessDefinition
    from .services.definitions import called_processes, diagram_key

    errors = []
    for alias in databases or ():
        if not _tables_exist(alias, ProcessDefinition):
            continue
        contents = {path: path.read_bytes() for path in _pack_files()}
        in_pack = {diagram_key(content) for content in contents.values()}
        deployed = set(
            ProcessDefinition.objects.using(alias).values_list("key", flat=True).distinct()
        )
        for path, content in contents.items():
            errors.extend(
                Error(
                    f"{path.name}: a call activity calls process '{key}', which is neither in "
                    "the process pack nor deployed",
                    hint="add its diagram to the pack or deploy it first",
                    id="workflows.E002",
                )
                for key in called_processes(content)
                if key not in in_pack and key not in deployed
            )
    return errors
