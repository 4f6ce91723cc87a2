"""A case's data has a size limit, checked before anything is saved (issue 18, item 8).

The attack: a script stored ``[[0] * 10_000] * 3_000``, small in memory and 60 MB as saved JSON,
and took the server from 200 MB to over 2 GB while it wrote the case record. Now the step that
made the data becomes an incident naming it, and the rows stay as they were.
"""

import time

import pytest

from workflows import extensions
from workflows.exceptions import IncidentRaised, InvalidInput
from workflows.models import AuditEvent, AuditKind, HumanTask, InstanceState, Job, ProcessInstance
from workflows.services.definitions import definition_deploy
from workflows.services.instances import instance_start
from workflows.services.jobs import job_run
from workflows.services.tasks import task_complete

pytestmark = pytest.mark.django_db

DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs"
    targetNamespace="http://fuzhu.example/bpmn">
  <bpmn:process id="{key}" name="存放数据" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="{first}" />
    {enter}
    <bpmn:scriptTask id="store" name="保存名单" scriptFormat="python">
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f3" sourceRef="store" targetRef="confirm" />
    <bpmn:userTask id="confirm" name="确认" camunda:candidateGroups="county_staff" />
    <bpmn:sequenceFlow id="f4" sourceRef="confirm" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
"""
ENTER = """<bpmn:userTask id="enter" name="录入" camunda:candidateGroups="county_staff" />
    <bpmn:sequenceFlow id="f2" sourceRef="enter" targetRef="store" />"""

# 3,000 references to one 10,000-item list, built where no size check of * or + sees it.
SHARED_ROWS = "x = [r for r in [[0] * 10000] for i in range(3000)]"
TOO_LARGE = (
    "步骤“保存名单 (store)”的数据超过了 {limit} 字节的上限，本步未保存"
    "（大量内容请作为文件附上，不要存为流程变量）"
)


def _deploy(owner, script: str, *, after_a_task: bool = True, key: str = "stores_data"):
    diagram = DIAGRAM.format(
        key=key,
        first="enter" if after_a_task else "store",
        enter=ENTER if after_a_task else "",
        script=script,
    )
    return definition_deploy(content=diagram.encode(), user=owner).definition


def _complete_and_expect_incident(instance, user, message: str):
    task = instance.human_tasks.get()
    state_before, events_before = instance.serialized_state, instance.audit_events.count()
    started = time.monotonic()
    with pytest.raises(IncidentRaised) as raised:
        task_complete(task_id=task.pk, user=user, data={"persons": 3})
    elapsed = time.monotonic() - started
    assert message in str(raised.value)
    instance.refresh_from_db()
    assert instance.state == InstanceState.INCIDENT
    assert (instance.incident_element, instance.incident_message) == ("store", message)
    # Nothing half-written: the state, the tasks and the audit chain are as before, plus the
    # incident's own event.
    assert instance.serialized_state == state_before
    assert list(
        HumanTask.objects.filter(instance=instance).values_list("element_id", flat=True)
    ) == ["enter"]
    assert instance.audit_events.count() == events_before + 1
    assert instance.audit_events.order_by("-sequence").first().kind == AuditKind.INCIDENT_RAISED
    return elapsed


def test_a_script_that_stores_60_mb_of_shared_rows_raises_an_incident_naming_its_step(
    owner, county_clerk
):
    _deploy(owner, SHARED_ROWS)
    instance = instance_start(process_key="stores_data", user=county_clerk)
    elapsed = _complete_and_expect_incident(
        instance, county_clerk, TOO_LARGE.format(limit="2,097,152")
    )
    assert elapsed < 2, f"took {elapsed:.2f} s"


def test_the_original_attack_is_refused_by_the_sandbox_where_the_list_is_built(owner, county_clerk):
    _deploy(owner, "x = [[0] * 10000] * 3000")
    instance = instance_start(process_key="stores_data", user=county_clerk)
    _complete_and_expect_incident(
        instance, county_clerk, "数据不能超过 1,000,000 项（重复出现的部分每出现一次都计入）"
    )


def test_a_case_too_large_at_its_start_is_not_created(owner, county_clerk):
    _deploy(owner, SHARED_ROWS, after_a_task=False)
    with pytest.raises(InvalidInput) as refused:
        instance_start(process_key="stores_data", user=county_clerk)
    assert TOO_LARGE.format(limit="2,097,152") in str(refused.value)
    assert not ProcessInstance.objects.exists()
    assert not AuditEvent.objects.filter(kind=AuditKind.INSTANCE_STARTED).exists()


def test_the_data_limit_is_a_setting(owner, county_clerk, settings):
    settings.WORKFLOWS = {**settings.WORKFLOWS, "MAX_CASE_DATA_BYTES": 10_000}
    _deploy(owner, "note = '备注' * 2000")  # 12,000 bytes as UTF-8
    instance = instance_start(process_key="stores_data", user=county_clerk)
    _complete_and_expect_incident(instance, county_clerk, TOO_LARGE.format(limit="10,000"))


def test_the_whole_state_has_a_limit_of_its_own(owner, county_clerk, settings):
    # Each task's variables stay under the data limit; what the case saves in all passes the
    # state limit (set lower here, so one script is enough).
    settings.WORKFLOWS = {
        **settings.WORKFLOWS,
        "MAX_CASE_DATA_BYTES": 10_000,
        "MAX_CASE_STATE_BYTES": 4_000,
    }
    _deploy(owner, "note = 'x' * 5000")
    instance = instance_start(process_key="stores_data", user=county_clerk)
    message = "案件数据在步骤“保存名单 (store)”处超过了 4,000 字节的上限，本步未保存"
    _complete_and_expect_incident(instance, county_clerk, message)


def test_data_nested_too_deep_to_save_raises_an_incident(owner, county_clerk):
    # 50,000 lists within each other take milliseconds to build and made json.dumps raise
    # RecursionError after the step: a server error, not an incident.
    _deploy(owner, "x = []\nfor i in range(50000):\n    x = [x]")
    instance = instance_start(process_key="stores_data", user=county_clerk)
    _complete_and_expect_incident(
        instance, county_clerk, "步骤“保存名单 (store)”的数据嵌套超过了 100 层，本步未保存"
    )


def test_data_within_the_limit_is_saved_as_before(owner, county_clerk):
    _deploy(owner, "rows = [[i, i * 2] for i in range(1000)]")
    instance = instance_start(process_key="stores_data", user=county_clerk)
    task_complete(task_id=instance.human_tasks.get().pk, user=county_clerk, data={"persons": 3})
    instance.refresh_from_db()
    assert instance.state == InstanceState.RUNNING
    assert instance.variables["rows"][999] == [999, 1998]


@pytest.fixture
def generous_handler():
    """A service handler whose answer is too large to keep as variables."""

    @extensions.service_handler("test_compare", asynchronous=True, max_attempts=3)
    def compare(variables):
        return {"report": "比对结果" * 200_000}  # 800,000 characters, 4.8 MB as saved

    yield
    extensions.unregister_handler("test_compare")


def test_a_handler_answer_too_large_to_keep_raises_an_incident_on_its_step(
    generous_handler, deploy, county_clerk
):
    deploy("async_service")
    instance = instance_start(process_key="async_service", user=county_clerk)
    [job] = Job.objects.filter(instance=instance)
    state_before = instance.serialized_state
    assert job_run(job_id=job.pk) == "failed"
    instance.refresh_from_db()
    assert instance.state == InstanceState.INCIDENT
    assert (instance.incident_element, instance.incident_message) == (
        "compare",
        "步骤“比对数据 (compare)”的数据超过了 2,097,152 字节的上限，本步未保存"
        "（大量内容请作为文件附上，不要存为流程变量）",
    )
    assert instance.serialized_state == state_before
    assert not instance.human_tasks.exists()
    assert "report" not in instance.variables
