"""Reading diagrams: untrusted XML in, SpiffWorkflow specs out.

Diagrams are uploaded by people, so the XML is parsed defensively: size-limited, no DTD at all
(which rules out entity-expansion bombs and external entities), no network.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    EndEvent,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    ManualTask,
    NoneTask,
    StartEvent,
)
from SpiffWorkflow.bpmn.specs.event_definitions.message import (
    MessageEventDefinition as BaseMessageEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.camunda.parser import event_parsers as camunda_events
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import (
    CAMUNDA_MODEL_NS,
    BusinessRuleTaskParser,
    UserTaskParser,
)
from SpiffWorkflow.camunda.specs.business_rule_task import BusinessRuleTask

from .events import FuzhuMessageEventDefinition
from .specs import AssignedUserTask, Assignment, HandlerServiceTask
from .timeexpr import timer_expression

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NSMAP = {"bpmn": BPMN_NS, "camunda": CAMUNDA_MODEL_NS}


class DiagramError(Exception):
    """The diagram cannot be read at all (not XML, unsafe XML, too large)."""

    def __init__(self, message: str, line: int | None = None, element: str = ""):
        super().__init__(message)
        self.message = message
        self.line = line
        self.element = element


def _dtd_refused() -> str:
    return _(
        "the file contains a <!DOCTYPE> or <!ENTITY> declaration, which diagrams may not "
        "contain (it can hide an entity bomb or read files on the server); export the diagram "
        "again from the modeler"
    )


def _parse_untrusted(content: bytes, *, max_bytes: int) -> etree._Element:
    """Parse uploaded XML safely (size, UTF-8, no DTD); DiagramError says what is wrong."""
    if len(content) > max_bytes:
        raise DiagramError(too_large(len(content), max_bytes))
    if not content.strip():
        raise DiagramError(_("the file is empty"))
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        raise DiagramError(
            _("the file is not UTF-8 text (it may be saved as GBK or UTF-16): save it as UTF-8")
        ) from None
    if b"<!doctype" in content.lower() or b"<!entity" in content[:4096].lower():
        # BPMN never needs a DTD; refusing it closes entity bombs and external entities at once.
        raise DiagramError(_dtd_refused())
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=False,
    )
    try:
        root = etree.fromstring(content, parser=parser)
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else None
        message = _("the file is not well-formed XML: %(detail)s") % {"detail": exc.msg}
        raise DiagramError(message, line=line) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise DiagramError(_dtd_refused())  # not reached for UTF-8 (refused above); kept as a net
    return root


def too_large(size: int, limit: int) -> str:
    return _("the file is %(size)s bytes; the limit is %(limit)s bytes") % {
        "size": f"{size:,}",
        "limit": f"{limit:,}",
    }


def load_xml(content: bytes, *, max_bytes: int) -> etree._Element:
    """Parse diagram bytes safely; raises DiagramError with a message a person can act on."""
    root = _parse_untrusted(content, max_bytes=max_bytes)
    if root.tag != f"{{{BPMN_NS}}}definitions":
        found = etree.QName(root).localname
        raise DiagramError(
            _(
                "the file is not a BPMN 2.0 diagram: its root element is <%(found)s>, "
                "not <bpmn:definitions>"
            )
            % {"found": found},
            line=root.sourceline,
        )
    return root


# DMN 1.1 to 1.3, as the Camunda modeler and dmn-js write them.
DMN_NAMESPACES = (
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
)


def load_dmn_xml(content: bytes, *, max_bytes: int) -> etree._Element:
    """Parse a DMN file (decision tables) as safely as a diagram."""
    root = _parse_untrusted(content, max_bytes=max_bytes)
    if etree.QName(root).localname != "definitions" or etree.QName(root).namespace not in (
        DMN_NAMESPACES
    ):
        found = etree.QName(root).localname
        raise DiagramError(
            f"the file is not a DMN decision table: its root element is <{found}>, "
            "not DMN <definitions>",
            line=root.sourceline,
        )
    return root


def decision_ids(root: etree._Element) -> list[str]:
    """The ids of the decisions a DMN file holds (SpiffWorkflow runs one per file)."""
    return [node.get("id", "") for node in root if etree.QName(node).localname == "decision"]


def _camunda(node, name: str) -> str:
    return (node.get(f"{{{CAMUNDA_MODEL_NS}}}{name}") or "").strip()


class AssignedUserTaskParser(UserTaskParser):
    """Keeps the Camunda 7 assignment attributes that SpiffWorkflow's parser drops."""

    def create_task(self):
        form = self.get_form()
        return self.spec_class(
            self.spec,
            self.bpmn_id,
            form=form,
            assignment=self.get_assignment(),
            **self.bpmn_attributes,
        )

    def get_form(self):
        form = super().get_form()
        form.key = form.key or _camunda(self.node, "formKey")
        return form

    def get_assignment(self) -> Assignment:
        properties = {
            p.get("name"): p.get("value") or ""
            for p in self.xpath("./bpmn:extensionElements/camunda:properties/camunda:property")
        }
        lane = self.node.getroottree().xpath(
            ".//bpmn:lane[bpmn:flowNodeRef[normalize-space()=$id]]",
            namespaces=NSMAP,
            id=self.bpmn_id,
        )
        return Assignment(
            candidate_groups=_camunda(self.node, "candidateGroups"),
            candidate_users=_camunda(self.node, "candidateUsers"),
            assignee=_camunda(self.node, "assignee"),
            due_date=_camunda(self.node, "dueDate"),
            follow_up_date=_camunda(self.node, "followUpDate"),
            form_key=_camunda(self.node, "formKey"),
            priority=_camunda(self.node, "priority"),
            scope=properties.pop("scope", ""),
            lane_id=lane[0].get("id", "") if lane else "",
            extra=properties,
        )


class UndefinedTaskParser(AssignedUserTaskParser):
    """A plain ``task`` or a ``manualTask``: work the engine does not do.

    BPMN leaves an undefined task to the modeler and Camunda passes it (and a manual task)
    straight through; SpiffWorkflow makes both wait for a person, with no role, which nobody can
    claim. Here one passes through unless the diagram says who does it (a lane, candidate groups,
    candidate users or an assignee): then it is a user task like any other, checked like one."""

    def create_task(self):
        assignment = self.get_assignment()
        if (
            assignment.lane_id
            or assignment.candidate_groups
            or assignment.candidate_users
            or (assignment.assignee)
        ):
            self.spec_class = AssignedUserTask
            return super().create_task()
        spec = self.spec_class(self.spec, self.bpmn_id, **self.bpmn_attributes)
        spec.manual = False
        return spec


class HandlerServiceTaskParser(TaskParser):
    """A service task names its handler as an external-task topic (``camunda:topic``).

    It runs as a background job when the diagram says ``camunda:asyncBefore="true"`` or the
    handler is registered as asynchronous (``async_topics``)."""

    def create_task(self):
        topic = _camunda(self.node, "topic")
        if not topic:
            expression = _camunda(self.node, "delegateExpression") or _camunda(self.node, "class")
            topic = expression.removeprefix("${").removesuffix("}").strip()
        asynchronous = _camunda(self.node, "asyncBefore") == "true" or topic in getattr(
            self.process_parser.parser, "async_topics", ()
        )
        return self.spec_class(
            self.spec, self.bpmn_id, topic=topic, asynchronous=asynchronous, **self.bpmn_attributes
        )


class DecisionTaskParser(BusinessRuleTaskParser):
    """A business rule task names its DMN decision by ``camunda:decisionRef``; one that names
    none is reported by the deploy checks instead of failing the parser with a KeyError."""

    @staticmethod
    def get_decision_ref(node):
        return _camunda(node, "decisionRef")


class _MessagesAsVariables(camunda_events.CamundaEventDefinitionParser):
    def parse_timer_event(self, event):
        definition = super().parse_timer_event(event)
        definition.expression = timer_expression(definition.expression)
        return definition

    def parse_message_event(self, message_event):
        base = super().parse_message_event(message_event)
        return FuzhuMessageEventDefinition(
            base.name, base.correlation_properties, base.expression, base.result_var
        )


class _StartEventParser(_MessagesAsVariables, camunda_events.CamundaStartEventParser):
    pass


class _EndEventParser(_MessagesAsVariables, camunda_events.CamundaEndEventParser):
    pass


class _CatchEventParser(_MessagesAsVariables, camunda_events.CamundaIntermediateCatchEventParser):
    pass


class _ThrowEventParser(_MessagesAsVariables, camunda_events.CamundaIntermediateThrowEventParser):
    pass


class _BoundaryEventParser(_MessagesAsVariables, camunda_events.CamundaBoundaryEventParser):
    pass


class FuzhuParser(CamundaParser):
    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("userTask"): (AssignedUserTaskParser, AssignedUserTask),
        full_tag("serviceTask"): (HandlerServiceTaskParser, HandlerServiceTask),
        full_tag("task"): (UndefinedTaskParser, NoneTask),
        full_tag("manualTask"): (UndefinedTaskParser, ManualTask),
        full_tag("startEvent"): (_StartEventParser, StartEvent),
        full_tag("endEvent"): (_EndEventParser, EndEvent),
        full_tag("intermediateCatchEvent"): (_CatchEventParser, IntermediateCatchEvent),
        full_tag("intermediateThrowEvent"): (_ThrowEventParser, IntermediateThrowEvent),
        full_tag("boundaryEvent"): (_BoundaryEventParser, BoundaryEvent),
        full_tag("businessRuleTask"): (DecisionTaskParser, BusinessRuleTask),
    }

    def __init__(self, *args, async_topics=(), require_decisions=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.async_topics = frozenset(async_topics)
        self.require_decisions = require_decisions

    def get_engine(self, decision_ref, node):
        # While checking, a missing decision table leaves the task without one; the host
        # reports it (with the tables there are) and goes on checking the rest.
        if decision_ref not in self.dmn_parsers and not self.require_decisions:
            return None
        return super().get_engine(decision_ref, node)


@dataclass(frozen=True)
class StartTrigger:
    """How instances start by themselves: a timer (its expression) or a message (its name)."""

    kind: str  # "timer" | "message"
    value: str
    element: str


@dataclass
class ParsedDiagram:
    """One deployable process: its key and name, and SpiffWorkflow's specs for it."""

    key: str
    name: str
    spec: object
    subprocess_specs: dict
    root: etree._Element
    start_triggers: list[StartTrigger]


def _take_start_triggers(spec) -> list[StartTrigger]:
    """Timer and message start events start *new instances* (Camunda's meaning), which the host
    schedules; inside the instance the start event then simply starts."""
    triggers = []
    for start in spec.start.outputs:
        definition = getattr(start, "event_definition", None)
        if isinstance(definition, TimerEventDefinition):
            triggers.append(StartTrigger("timer", definition.expression, start.bpmn_id))
        elif isinstance(definition, BaseMessageEventDefinition):
            triggers.append(StartTrigger("message", definition.name, start.bpmn_id))
        else:
            continue
        start.event_definition = NoneEventDefinition(description="Default")
    return triggers


def top_level_process_ids(root: etree._Element) -> list[str]:
    """Executable processes that no call activity in the same file calls."""
    processes = root.xpath("./bpmn:process", namespaces=NSMAP)
    called = {c.get("calledElement") for c in root.xpath(".//bpmn:callActivity", namespaces=NSMAP)}
    return [
        p.get("id") or ""  # a process without an id is refused by the rules (ids-required)
        for p in processes
        if p.get("isExecutable", "false").lower() == "true" and p.get("id") not in called
    ]


def parse_diagram(
    root: etree._Element,
    *,
    extra_roots: list | None = None,
    async_topics=(),
    require_called: bool = True,
    decisions: dict | None = None,
) -> ParsedDiagram:
    """Build the specs of the file's one top-level executable process.

    ``extra_roots`` are other deployed diagrams that call activities may refer to; ``decisions``
    the DMN files (name → parsed root) that business rule tasks may name. With
    ``require_called=False`` a called process or decision that is missing leaves a None spec or
    table (validation uses it to go on checking the rest, and reports what is missing itself).
    Raises ValidationException (SpiffWorkflow's) or DiagramError.
    """
    candidates = top_level_process_ids(root)
    if not candidates:
        raise DiagramError(_('the diagram has no executable process (isExecutable="true")'))
    if len(candidates) > 1:
        raise DiagramError(
            _(
                "the diagram has several top-level executable processes "
                "(%(ids)s); put one procedure per file"
            )
            % {"ids": ", ".join(candidates)}
        )
    key = candidates[0]
    parser = FuzhuParser(async_topics=async_topics, require_decisions=require_called)
    for name, dmn_root in (decisions or {}).items():
        parser.add_dmn_xml(dmn_root, filename=name)
    parser.add_bpmn_xml(root, filename=f"{key}.bpmn")
    for extra in extra_roots or []:
        parser.add_bpmn_xml(extra)
    spec = parser.get_spec(key)
    subprocess_specs = parser.get_subprocess_specs(key, require_call_activity_specs=require_called)
    process = root.xpath("./bpmn:process[@id=$key]", namespaces=NSMAP, key=key)[0]
    return ParsedDiagram(
        key=key,
        name=process.get("name") or key,
        spec=spec,
        subprocess_specs=subprocess_specs,
        root=root,
        start_triggers=_take_start_triggers(spec),
    )


__all__ = [
    "DiagramError",
    "ParsedDiagram",
    "ValidationException",
    "decision_ids",
    "load_dmn_xml",
    "load_xml",
    "parse_diagram",
    "top_level_process_ids",
]
