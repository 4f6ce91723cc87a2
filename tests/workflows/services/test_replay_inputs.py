"""What a replay is given instead of asking again: a synchronous handler's result is an input of
its step, recorded with it; a replay never calls the handler (it would answer as things stand
now, and write to the procedure's tables from a read)."""

import json

import pytest

from tests.workflows.services.test_audit import raw_update
from workflows.models import AuditKind
from workflows.selectors.case_replay import case_history, case_verify
from workflows.services.instances import instance_start
from workflows.services.replay import instance_replay

pytestmark = pytest.mark.django_db


@pytest.fixture
def looked_up(deploy, county_clerk, test_handler):
    deploy("service_task")
    instance = instance_start(
        process_key="service_task", user=county_clerk, variables={"person": "李四"}
    )
    assert len(test_handler) == 1
    return instance


def test_the_start_records_the_handlers_result_and_a_replay_uses_it(looked_up, test_handler):
    started = looked_up.audit_events.get(kind=AuditKind.INSTANCE_STARTED)
    (result,) = started.payload["handlers"].values()
    assert result == {"found": True, "looked_up": "李四"}

    assert instance_replay(instance=looked_up).matches
    assert case_verify(case_history(instance=looked_up)).reproduces
    assert len(test_handler) == 1  # not called again by either replay


def test_a_replay_that_would_answer_otherwise_still_agrees(looked_up, test_handler):
    """The handler would now say something else (the registry changed since): the replay
    reproduces what happened then, because it does not ask."""
    from workflows import extensions

    extensions.unregister_handler("test_lookup")
    extensions.service_handler("test_lookup", label="测试查询")(lambda v: {"found": False})
    assert instance_replay(instance=looked_up).matches


def test_a_missing_result_is_named_in_chinese(looked_up):
    started = looked_up.audit_events.get(kind=AuditKind.INSTANCE_STARTED)
    payload = {k: v for k, v in started.payload.items() if k != "handlers"}
    raw_update(
        "UPDATE workflows_auditevent SET payload = %s WHERE id = %s",
        [json.dumps(payload, ensure_ascii=False), started.pk],
    )
    report = instance_replay(instance=looked_up)
    assert not report.matches
    assert report.first_mismatch.message == (
        "第 1 个事件（发起流程）：「查询」运行了自动步骤，但记录中没有它的结果"
    )
