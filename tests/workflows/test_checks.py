"""The process pack's system checks: files alone at every start, the database where it exists."""

from __future__ import annotations

import shutil

from django.core import checks

from tests.conftest import BPMN


def _pack(settings, tmp_path, *names):
    for name in names:
        shutil.copy(BPMN / name, tmp_path / name)
    settings.WORKFLOWS = {**settings.WORKFLOWS, "PROCESS_DIRS": [tmp_path]}


def _ids(messages):
    return [m.id for m in messages]


def test_a_broken_diagram_of_the_pack_is_an_error_at_start_up(settings, tmp_path):
    _pack(settings, tmp_path, "bad_candidate_group.bpmn")
    found = checks.run_checks(tags=[checks.Tags.compatibility])
    assert "workflows.E001" in _ids(found)
    assert any("bad_candidate_group.bpmn" in m.msg for m in found)


def test_the_file_check_reads_no_table(settings, tmp_path, django_assert_num_queries, db):
    _pack(settings, tmp_path, "call_activity.bpmn", "six_steps.bpmn")
    with django_assert_num_queries(0):
        checks.run_checks(tags=[checks.Tags.compatibility])


def test_a_call_to_a_process_neither_in_the_pack_nor_deployed_is_a_database_error(
    settings, tmp_path, db
):
    _pack(settings, tmp_path, "bad_call_undeployed.bpmn")
    found = checks.run_checks(tags=[checks.Tags.database], databases=["default"])
    [error] = [m for m in found if m.id == "workflows.E002"]
    assert "bad_call_undeployed.bpmn" in error.msg
    # Without a database to look at, nothing is claimed.
    assert "workflows.E002" not in _ids(checks.run_checks(tags=[checks.Tags.database]))
