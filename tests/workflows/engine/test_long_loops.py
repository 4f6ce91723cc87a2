"""A case returned for correction hundreds of times keeps looping: SpiffWorkflow's task
iterator stops at depth 1000 by default, and past it the engine took the case for completed."""

import uuid

from django.conf import settings as django_settings
from django.utils import timezone
from SpiffWorkflow.util.task import TaskState

from workflows.engine.parser import load_xml, parse_diagram
from workflows.engine.runtime import DefinitionRuntime, IdSequence

LOOP = django_settings.BASE_DIR / "bench" / "fixtures" / "correction_loop.bpmn"


def test_a_loop_deeper_than_a_thousand_tasks_still_loops():
    root = load_xml(LOOP.read_bytes(), max_bytes=1 << 20)
    runtime = DefinitionRuntime(
        parse_diagram(root), handler_runner=lambda topic, data: None, time_limit=1.0
    )
    ids = IdSequence(uuid.uuid4())
    workflow, _ = runtime.start(variables={}, ids=ids, now=timezone.now())
    # 350 rounds of check + correction: about 1,050 levels of tasks.
    for _ in range(700):
        (task,) = workflow.get_tasks(state=TaskState.READY, manual=True)
        data = {"approved": False} if task.task_spec.name == "county_check" else {}
        runtime.complete_user_task(
            workflow, task_id=task.id, data=data, ids=ids, now=timezone.now()
        )
    assert not workflow.is_completed()
    (task,) = workflow.get_tasks(state=TaskState.READY, manual=True)
    assert task.task_spec.name == "county_check"
    runtime.complete_user_task(
        workflow, task_id=task.id, data={"approved": True}, ids=ids, now=timezone.now()
    )
    assert workflow.is_completed()
    assert workflow.get_tasks(spec_name="approved")[0].state == TaskState.COMPLETED
