"""Walks of the task tree that jump over a long case's finished past find exactly what the
full walk finds, in the same order, also after the past itself changes (a reset)."""

import uuid

from django.conf import settings as django_settings
from django.utils import timezone
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.util.task import TaskState

from workflows.engine.parser import load_xml, parse_diagram
from workflows.engine.runtime import DefinitionRuntime, IdSequence

LOOP = django_settings.BASE_DIR / "bench" / "fixtures" / "correction_loop.bpmn"
QUERIES = [
    {"state": TaskState.READY},
    {"state": TaskState.READY, "manual": True},
    {"state": TaskState.WAITING},
    {"state": TaskState.READY | TaskState.WAITING | TaskState.STARTED},
    {"state": TaskState.NOT_FINISHED_MASK},
]


def full_walk(workflow, **query) -> list:
    walk = BpmnTaskIterator(workflow.task_tree, **query)
    walk._fz_jumps = False  # the walk as SpiffWorkflow does it
    return list(walk)


def loop_case():
    root = load_xml(LOOP.read_bytes(), max_bytes=1 << 20)
    runtime = DefinitionRuntime(
        parse_diagram(root), handler_runner=lambda topic, data: None, time_limit=1.0
    )
    ids = IdSequence(uuid.uuid4())
    workflow, _ = runtime.start(variables={}, ids=ids, now=timezone.now())
    return runtime, ids, workflow


def step(runtime, ids, workflow) -> None:
    (task,) = workflow.get_tasks(state=TaskState.READY, manual=True)
    data = {"approved": False} if task.task_spec.name == "county_check" else {}
    runtime.complete_user_task(workflow, task_id=task.id, data=data, ids=ids, now=timezone.now())


def assert_same_walks(workflow) -> None:
    for query in QUERIES:
        assert workflow.get_tasks(**query) == full_walk(workflow, **query), query


def test_every_walk_for_unfinished_tasks_finds_what_the_full_walk_finds():
    runtime, ids, workflow = loop_case()
    for _ in range(80):
        assert_same_walks(workflow)
        step(runtime, ids, workflow)
    assert_same_walks(workflow)
    # It did jump: the root's run ends near the frontier, 40 rounds below.
    ends = workflow.__dict__["_fz_jumps"][1]
    assert ends[workflow.task_tree.id].depth > 100


def test_a_reset_of_the_finished_past_is_walked_as_it_is_now():
    runtime, ids, workflow = loop_case()
    for _ in range(40):
        step(runtime, ids, workflow)
    assert_same_walks(workflow)
    early = workflow.get_tasks(spec_name="county_check")[3]
    workflow.reset_from_task_id(early.id)
    assert_same_walks(workflow)
    assert len(workflow.get_tasks(state=TaskState.READY, manual=True)) == 1
    for _ in range(6):
        step(runtime, ids, workflow)
        assert_same_walks(workflow)
