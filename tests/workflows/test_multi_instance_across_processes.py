"""A multi-instance task whose children one process created finishes when another process (a web
worker after a job runner, or the same server after a restart) completes them."""

import pytest

from workflows.models import HumanTask, HumanTaskState
from workflows.services.instances import instance_start
from workflows.services.runtimes import _runtime
from workflows.services.tasks import task_complete

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("every_case_replays")]


def test_children_created_before_a_restart_still_complete_the_multi_instance(
    deploy, county_clerk, township_a, township_b
):
    deploy("multi_instance")
    instance = instance_start(
        process_key="multi_instance",
        user=county_clerk,
        org_unit="330102000000",
        variables={"townships": ["330102101000", "330102102000"]},
    )
    _runtime.cache_clear()  # as in a new process: the definition is parsed afresh
    for task in HumanTask.objects.filter(instance=instance, state=HumanTaskState.OPEN):
        user = township_a if task.scope == "330102101000" else township_b
        task_complete(task_id=task.pk, user=user, data={})
        _runtime.cache_clear()
    open_now = HumanTask.objects.filter(instance=instance, state=HumanTaskState.OPEN)
    assert list(open_now.values_list("element_id", flat=True)) == ["summary"]
    # Each child's item was written back in place, not appended (which a process that had not
    # run the start itself did): the collection still lists each township once.
    instance.refresh_from_db()
    assert instance.variables["townships"] == ["330102101000", "330102102000"]
