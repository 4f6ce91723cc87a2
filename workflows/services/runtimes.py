"""A deployed definition, parsed and ready to run: what every service that moves a case starts
from. Kept apart from deploying, which schedules the start timers and messages whose services
need a runtime themselves."""

from __future__ import annotations

from functools import lru_cache

from .. import conf, extensions
from ..engine.parser import load_xml, parse_diagram
from ..engine.runtime import DefinitionRuntime
from ..models import ProcessDefinition
from .decisions import definition_decision_roots
from .handlers import run_handler


def runtime_for(definition: ProcessDefinition) -> DefinitionRuntime:
    """The parsed, ready-to-run form of a definition (cached: definitions never change)."""
    return _runtime(definition.pk, definition.sha256)


@lru_cache(maxsize=256)
def _runtime(definition_id: int, sha256: str) -> DefinitionRuntime:
    definition = ProcessDefinition.objects.get(pk=definition_id)
    max_bytes = conf.get("MAX_BPMN_BYTES")
    root = load_xml(definition.bpmn_xml.encode(), max_bytes=max_bytes)
    extra = [
        load_xml(d.bpmn_xml.encode(), max_bytes=max_bytes)
        for d in ProcessDefinition.objects.filter(pk__in=definition.dependencies)
    ]
    return DefinitionRuntime(
        parse_diagram(
            root,
            extra_roots=extra,
            async_topics=extensions.async_topics(),
            decisions=definition_decision_roots(definition),
        ),
        handler_runner=run_handler,
        time_limit=conf.get("SCRIPT_TIME_LIMIT_SECONDS"),
    )
