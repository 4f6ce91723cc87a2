"""The auditor's history of a case: frames re-executed on the exact version, merged with the
case's domain records, with the element states, data and deadlines of each moment."""

import pytest

from portal.replay import replay_document
from workflows.selectors.case_replay import case_history

pytestmark = pytest.mark.django_db


def test_frames_follow_the_case_and_its_petition_in_time_order(petition):
    history = case_history(instance=petition.instance)
    kinds = [(f.source, f.kind, f.label) for f in history.frames]
    assert kinds[0][:2] == ("instance", "instance_started")
    record_changes = [label for source, _, label in kinds if source == "record"]
    assert record_changes == ["registered", "acceptance_decided"]
    assert not history.replay_problem
    started, *_rest, last = history.frames
    assert started.states["decide_acceptance"] == "active"
    assert last.states["decide_acceptance"] == "completed"
    assert last.states["follow_up"] == "active"


def test_document_shows_who_role_origin_changes_and_deadlines_then(petition):
    document = replay_document(case_history(instance=petition.instance))
    steps = document["steps"]
    start = steps[0]
    assert start["origin"] == "门户 · 10.1.2.3" or start["origin"].endswith("10.1.2.3")
    assert ["首接人", "—", "township_a", "first_receiver"] in start["changes"]
    # At the start the 15-day acceptance limit is open; the task of deciding it too.
    acceptance = next(d for d in start["deadlines"] if d["label"] == "受理期限")
    assert acceptance["status"] == "open"
    completion = next(s for s in steps if s["kind"] == "task_completed")
    assert completion["origin"].endswith("10.9.9.9")
    assert completion["element"] == "受理决定"
    assert completion["who"] == "township_a" or completion["user"] == "township_a"
    assert any(
        change[3] == "decision" and change[2] == "受理 (accepted)"
        for change in completion["changes"]
    )
    # Completed on day 20: the acceptance deadline had passed by then.
    passed = next(d for d in completion["deadlines"] if d["label"] == "受理期限")
    assert passed["status"] == "passed"
    reply = next(d for d in completion["deadlines"] if d["label"] == "答复期限")
    assert reply["status"] == "open"
    states = document["states"]
    assert states[start["states"]]["decide_acceptance"] == "active"
    assert states[completion["states"]]["decide_acceptance"] == "completed"
