"""The check that every case a test made replays true: at every event, and at its end.

Used by the procedures' end-to-end tests (the ``every_case_replays`` fixture): whatever a real
year, application or petition does - multi-instance over townships, loops back, boundary
timers, messages, background jobs, a bank return that fails, a move to another version - its
re-execution from the recorded inputs must agree with what was recorded at each event.
"""

from __future__ import annotations

from workflows.engine.runtime import element_states, state_digest, state_record, workflow_data
from workflows.models import AuditKind, ProcessInstance
from workflows.selectors.case_replay import case_history, case_verify
from workflows.services.replay import _ENGINE_EVENTS, Replayer, instance_replay


def assert_replays_at_every_event(instance: ProcessInstance) -> int:
    """Fail naming the first event the replay does not agree with; returns the events checked."""
    engine_events = list(instance.audit_events.filter(kind__in=_ENGINE_EVENTS).order_by("sequence"))
    assert engine_events and engine_events[0].kind == AuditKind.INSTANCE_STARTED
    report = instance_replay(instance=instance)
    assert [s.sequence for s in report.steps] == [e.sequence for e in engine_events]
    disagreeing = [(s.sequence, s.message) for s in report.steps if not s.matches]
    assert disagreeing == [], (instance.pk, disagreeing)
    assert report.final_matches, (instance.pk, report.differences)

    # What the replay computes step by step (digest, element states, data) is what the full
    # computation over the whole task tree gives, at every event.
    replayer = Replayer(instance)
    for event in engine_events:
        assert replayer.step(event) is None, (instance.pk, event.sequence)
        workflow, tracker = replayer.workflow, replayer.tracker
        assert tracker.digest() == state_digest(workflow) == event.payload["state_digest"]
        assert tracker.element_states() == element_states(workflow), event.sequence
        assert tracker.data(workflow) == workflow_data(workflow), event.sequence
        assert tracker.record(workflow) == state_record(workflow), event.sequence

    history = case_history(instance=instance)
    verification = case_verify(history)
    assert verification.intact and verification.reproduces, (
        instance.pk,
        history.replay_problem,
        history.final_differences,
    )
    return len(engine_events)


def assert_every_case_replays() -> int:
    """Every instance in the database; returns the engine events checked."""
    return sum(
        assert_replays_at_every_event(instance)
        for instance in ProcessInstance.objects.select_related("definition").order_by("pk")
    )
