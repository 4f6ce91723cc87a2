"""A decision table in a real Chromium: open it in dmn-js from the modeler, change a rule,
see the server refuse an unsupported hit policy in the table's dialog, fix it, deploy the
change as version 2, and see a case started on version 1 still evaluate version 1's table."""

from __future__ import annotations

import pytest

from tests.workflows.services.test_decision_versions import DIAGRAM, table
from workflows.models import ProcessDefinition
from workflows.services.definitions import definition_deploy
from workflows.services.instances import instance_start
from workflows.services.tasks import task_claim, task_complete

from .conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What a process owner does in the table, through dmn-js's own modeling API (typing into a
# cell ends in this same command).
EDIT_CELL = """([id, text]) => {
  const viewer = window.fzDmnModeler.getActiveViewer();
  const cell = viewer.get("elementRegistry").get(id);
  viewer.get("modeling").editCell(cell.businessObject, text);
}"""
HIT_POLICY = """(policy) => {
  window.fzDmnModeler.getActiveViewer().get("modeling").editHitPolicy(policy, undefined);
}"""


@pytest.fixture
def grading(settings, tmp_path):
    directory = tmp_path / "dmn"
    directory.mkdir()
    (directory / "band.dmn").write_text(table(), encoding="utf-8")
    settings.WORKFLOWS = {**settings.WORKFLOWS, "DMN_DIRS": [directory]}
    return definition_deploy(content=DIAGRAM, user=None).definition


def finish_review(instance, user):
    task = instance.human_tasks.get(state="open")
    task_claim(task_id=task.pk, user=user)
    task_complete(task_id=task.pk, user=user, data={})
    instance.refresh_from_db()
    return instance.variables["band"]


def test_a_process_owner_changes_a_decision_table_and_deploys_it(
    page, grading, make_user, county_clerk
):
    running = instance_start(process_key="grading", user=county_clerk, variables={"amount": 1500})
    owner = make_user("owner", ("process_owner", ""))
    log_in(page, owner)
    page.goto(f"{page.base}/modeler/grading/")
    page.wait_for_selector("#modeler[data-ready=true]")
    assert page.locator("#decision-list tr[data-decision=subsidy_band]").count() == 1

    page.click("[data-edit-decision=subsidy_band]")
    page.wait_for_selector("#decision-dialog[open] .tjs-container")
    page.wait_for_selector("#decision-editor :text('< 1000')")
    page.evaluate(EDIT_CELL, ["r1", "< 2000"])
    page.evaluate(HIT_POLICY, "FIRST")
    screenshot(page, "decision-table-1-editor")
    page.click("#decision-dialog-close")

    page.click("#check-draft")
    page.wait_for_selector("#problems li[data-decision=subsidy_band]")
    page.click("#problems li[data-decision=subsidy_band]")  # opens the table at its problem
    page.wait_for_selector("#decision-dialog[open] #decision-problems li.error")
    assert "FIRST" in page.inner_text("#decision-problems")
    page.evaluate(HIT_POLICY, "UNIQUE")
    page.click("#decision-dialog-close")

    page.click("#check-draft")
    page.wait_for_selector("#modeler-messages .ok")
    changed = page.locator("#table-changes li[data-decision=subsidy_band]")
    assert "< 2000" in changed.inner_text()
    screenshot(page, "decision-table-2-changes")
    page.fill("#deploy-comment", "限额提高到 2000")
    page.click("#deploy-draft")
    page.wait_for_selector("#modeler[data-deployed='2']")

    v2 = ProcessDefinition.objects.get(key="grading", version=2)
    assert "&lt; 2000" in v2.decisions["subsidy_band"]  # dmn-js's XML of the edited table
    assert 'camunda:decisionRef="subsidy_band"' in v2.bpmn_xml
    assert finish_review(running, county_clerk) == "high"  # version 1's table
    fresh = instance_start(process_key="grading", user=county_clerk, variables={"amount": 1500})
    assert finish_review(fresh, county_clerk) == "low"

    page.goto(f"{page.base}/modeler/grading/diff/?a=1&b=2")
    page.wait_for_selector("#table-changes li.rule-changed")
    screenshot(page, "decision-table-3-diff")
