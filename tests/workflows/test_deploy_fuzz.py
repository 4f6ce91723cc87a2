"""Deploy tells the truth, fuzzed: valid diagrams (the test fixtures and the process pack) with
attributes dropped, references left dangling or pointed elsewhere, elements duplicated or deleted
are deployed and started through the API. Every answer is 201 (or 200) or 400, never a server
error; an accepted variant that starts is never left waiting on nothing.

A derandomized profile keeps CI stable: the same few hundred variants on every run.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from tests.conftest import BPMN
from workflows import extensions
from workflows.models import (
    HumanTask,
    HumanTaskState,
    InstanceState,
    Job,
    JobState,
    ProcessInstance,
    Subscription,
    Timer,
    TimerState,
)

pytestmark = pytest.mark.django_db

PACK = Path(__file__).resolve().parent.parent.parent / "processes"
SEEDS = sorted(p for p in BPMN.glob("*.bpmn") if not p.name.startswith("bad_")) + sorted(
    (PACK / "bpmn").glob("*.bpmn")
)
# References the engine follows: the mutations leave them dangling, or point them elsewhere.
REFERENCES = (
    "sourceRef",
    "targetRef",
    "attachedToRef",
    "default",
    "messageRef",
    "signalRef",
    "errorRef",
    "escalationRef",
    "calledElement",
)
DROPPABLE = (*REFERENCES, "id", "name", "isExecutable", "cancelActivity", "triggeredByEvent")
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
ENGINE_WORDS = re.compile(r" at 0x|SubWorkflow|TaskSpec|\b[A-Z]\w*(Error|Exception)\(|Traceback")
FUZZ = settings(
    # FUZZ_EXAMPLES=5000 FUZZ_RANDOM=1 explores further than CI does.
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "600")),
    derandomize=not os.environ.get("FUZZ_RANDOM"),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _elements(root) -> list:
    """The process elements (not the drawing) a mutation may touch."""
    return [
        e
        for e in root.iter()
        if isinstance(e.tag, str) and etree.QName(e).namespace == BPMN_NS and e is not root
    ]


def _drop_attribute(root, pick):
    candidates = [
        (e, a)
        for e in _elements(root)
        for a in e.attrib
        if etree.QName(a).localname in DROPPABLE or a.startswith(f"{{{CAMUNDA}}}")
    ]
    if candidates:
        element, attribute = pick(candidates)
        del element.attrib[attribute]


def _dangle_reference(root, pick):
    candidates = [(e, a) for e in _elements(root) for a in e.attrib if a in REFERENCES]
    if candidates:
        element, attribute = pick(candidates)
        element.set(attribute, "nowhere")


def _repoint_reference(root, pick):
    candidates = [(e, a) for e in _elements(root) for a in e.attrib if a in REFERENCES]
    ids = [e.get("id") for e in _elements(root) if e.get("id")]
    if candidates and ids:
        element, attribute = pick(candidates)
        element.set(attribute, pick(ids))


def _duplicate_element(root, pick):
    candidates = [e for e in _elements(root) if e.getparent() is not None]
    if candidates:
        element = pick(candidates)
        element.addnext(copy.deepcopy(element))


def _delete_element(root, pick):
    candidates = [e for e in _elements(root) if e.getparent() is not None]
    if candidates:
        element = pick(candidates)
        element.getparent().remove(element)


def _empty_text(root, pick):
    candidates = [e for e in _elements(root) if (e.text or "").strip()]
    if candidates:
        pick(candidates).text = ""


# Kinds an element may be redrawn as: other modelers draw plain and manual tasks, other gateways.
RETAG = (
    "task",
    "manualTask",
    "userTask",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
)


def _retag(root, pick):
    candidates = [e for e in _elements(root) if etree.QName(e).localname in RETAG]
    if candidates:
        pick(candidates).tag = f"{{{BPMN_NS}}}{pick(list(RETAG))}"


MUTATIONS = (
    _retag,
    _drop_attribute,
    _dangle_reference,
    _repoint_reference,
    _duplicate_element,
    _delete_element,
    _empty_text,
)


@st.composite
def variants(draw):
    seed = draw(st.sampled_from(SEEDS))
    root = etree.fromstring(seed.read_bytes())
    for _ in range(draw(st.integers(1, int(os.environ.get("FUZZ_DEPTH", "3"))))):
        mutation = draw(st.sampled_from(MUTATIONS))
        mutation(root, lambda items: items[draw(st.integers(0, len(items) - 1))])
    return seed.name, etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@pytest.fixture
def fuzz_setup(settings, make_user, monkeypatch):
    settings.WORKFLOWS = {
        **settings.WORKFLOWS,
        "FORM_DIRS": [BPMN.parent / "forms", PACK / "forms"],
    }
    for topic in ("test_lookup", "test_compare", "integration_record", "send_sms"):
        if extensions.get_handler(topic) is None:
            extensions.service_handler(topic, label=topic)(lambda variables: {})
    owner = make_user("fuzz_owner", ("process_owner", ""))
    starter = make_user("fuzz_starter", superuser=True)
    yield owner, starter
    for topic in ("test_compare", "integration_record", "send_sms"):
        extensions.unregister_handler(topic)


def _waits_on_something(instance: ProcessInstance) -> bool:
    return (
        HumanTask.objects.filter(instance=instance, state=HumanTaskState.OPEN).exists()
        or Timer.objects.filter(instance=instance, state=TimerState.WAITING).exists()
        or Job.objects.filter(
            instance=instance, state__in=[JobState.PENDING, JobState.RUNNING]
        ).exists()
        or Subscription.objects.filter(instance=instance).exists()
    )


def test_every_seed_deploys(fuzz_setup, api):
    """The fixtures and the process pack pass every rule: the fuzz starts from valid ones."""
    owner, _ = fuzz_setup
    client = api(owner)
    for seed in SEEDS:
        response = client.post(
            "/api/process-definitions/",
            {"file": SimpleUploadedFile(seed.name, seed.read_bytes())},
            format="multipart",
        )
        assert response.status_code == 201, (seed.name, response.content)


@FUZZ
@given(variant=variants())
def test_a_mutated_diagram_is_deployed_and_started_or_refused_never_a_server_error(
    fuzz_setup, api, variant
):
    owner, starter = fuzz_setup
    seed, content = variant
    try:
        _deploy_and_start(api, owner, starter, seed, content)
    except BaseException:
        if os.environ.get("FUZZ_KEEP"):  # to look at the variant that failed
            Path(os.environ["FUZZ_KEEP"]).write_bytes(content)
        raise


def _deploy_and_start(api, owner, starter, seed, content):
    response = api(owner).post(
        "/api/process-definitions/",
        {"file": SimpleUploadedFile(seed, content)},
        format="multipart",
    )
    assert response.status_code in (200, 201, 400), (seed, response.content, content)
    if response.status_code == 400:
        for error in response.json()["errors"]:
            # In the owner's words: no object representations, no engine-internal names.
            assert not ENGINE_WORDS.search(error["message"]), error
            if os.environ.get("FUZZ_MESSAGES"):  # to read what owners are told
                with open(os.environ["FUZZ_MESSAGES"], "a", encoding="utf-8") as out:
                    out.write(error["message"] + "\n")
        return
    key = response.json()["key"]
    started = api(starter).post(
        "/api/process-instances/", {"process_key": key, "variables": {}}, format="json"
    )
    assert started.status_code < 500, (seed, started.content, content)
    if started.status_code != 201:
        return
    instance = ProcessInstance.objects.get(pk=started.json()["id"])
    if instance.state in (InstanceState.RUNNING, InstanceState.WAITING):
        assert _waits_on_something(instance), (seed, content)
