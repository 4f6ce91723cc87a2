"""The process owner's workbench in a real Chromium: change the device procedure in the modeler
(a new step in a new lane, with its own form), see bpmnlint flag a dangling flow, fix it, deploy
version 2, compare it with version 1, move a running case onto it, and see a new case take the
new step."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

from processes.devices.demo import agreements_load, catalogue_load
from tests.processes.devices.conftest import (  # noqa: F401 (fixtures)
    PROVIDER_EXPIRED,
    PROVIDER_X,
    PROVIDER_Y,
    adult,
    child,
    places,
    register,
    staff,
)
from workflows.models import HumanTask, HumanTaskState, ProcessDefinition
from workflows.services.definitions import definition_deploy
from workflows.services.tasks import task_claim, task_complete

from .conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PACK = django_settings.BASE_DIR / "processes"
KEY = "assistive_device_fitting"

# What a process owner does with the mouse, through bpmn-js's own modeling API (a drag on the
# canvas ends in these same commands): a lane below the existing ones, a user task in it, and
# the start event's flow moved onto the new task — which leaves the new task a dead end.
ADD_STEP = """() => {
  const m = window.fzModeler;
  const modeling = m.get("modeling"), factory = m.get("elementFactory");
  const registry = m.get("elementRegistry"), canvas = m.get("canvas");
  const participant = factory.createParticipantShape({ type: "bpmn:Participant" });
  const pool = modeling.createShape(participant, { x: 2000, y: 140 }, canvas.getRootElement());
  modeling.updateLabel(pool, "基本型辅助器具适配");
  const lane = modeling.addLane(pool, "bottom");
  modeling.updateLabel(lane, "村社区专职委员");
  for (const other of registry.filter((e) => e.type === "bpmn:Lane" && e.id !== lane.id)) {
    modeling.updateLabel(other, "乡镇残联工作人员");
  }
  const center = { x: 130, y: lane.y + lane.height / 2 };
  const step = modeling.createShape({ type: "bpmn:UserTask" }, center, lane);
  modeling.updateLabel(step, "电话核实");
  modeling.reconnectEnd(registry.get("flow_registered"), step, { x: center.x, y: center.y - 40 });
  m.get("selection").select(step);
  return step.id;
}"""

CONNECT_STEP = """(id) => {
  const m = window.fzModeler;
  const registry = m.get("elementRegistry");
  m.get("modeling").connect(registry.get(id), registry.get("initial_check"));
}"""

ADD_FORM_FIELD = """() => {
  const editor = window.fzFormEditor;
  const schema = editor.saveSchema();
  editor.get("modeling").addFormField(
    { type: "textfield", key: "phone_result", label: "电话核实结果" },
    editor.get("formFieldRegistry").get(schema.id),
    0,
  );
}"""


@pytest.fixture
def device_pack(settings, places):  # noqa: F811
    settings.WORKFLOWS = {
        **settings.WORKFLOWS,
        "FORM_DIRS": [*settings.WORKFLOWS["FORM_DIRS"], PACK / "forms"],
        "DMN_DIRS": [PACK / "dmn"],
    }
    for name in ("assistive_device_fitting", "assistive_device_settlement"):
        definition_deploy(content=(PACK / "bpmn" / f"{name}.bpmn").read_bytes(), user=None)
    catalogue_load()
    agreements_load([places[PROVIDER_X], places[PROVIDER_Y], places[PROVIDER_EXPIRED]])


def test_a_process_owner_changes_deploys_compares_and_moves_a_case(
    page,
    device_pack,
    staff,  # noqa: F811
    adult,  # noqa: F811
    child,  # noqa: F811
    make_user,
):
    running = register(staff["village"], adult)  # waits at the village's initial check
    owner = make_user("owner", ("process_owner", ""))
    log_in(page, owner)

    page.goto(f"{page.base}/modeler/")
    page.click(f"tr[data-key={KEY}] a")
    page.wait_for_selector("#modeler[data-ready=true]")
    assert page.locator("#modeler").get_attribute("data-lint-errors") == "0"

    step_id = page.evaluate(ADD_STEP)
    # Pick, don't type: the new task took Fuzhu's template, whose roles are a drop-down.
    custom = page.locator("#modeler-properties [data-group-id*='CustomProperties']")
    custom.locator(".bio-properties-panel-group-header").click()
    role = custom.locator("select").first
    assert "township_staff" in role.inner_html() and role.input_value() == ""  # by its lane

    page.wait_for_function("document.getElementById('modeler').dataset.lintErrors !== '0'")
    page.wait_for_selector(".bjsl-overlay .bjsl-icon-error")
    screenshot(page, "modeler-1-lint-dangling-flow")

    page.evaluate(CONNECT_STEP, step_id)
    page.wait_for_function("document.getElementById('modeler').dataset.lintErrors === '0'")

    # A file that is not a diagram is refused, and the unsaved change is still there.
    page.set_input_files(
        "#upload-bpmn",
        files=[{"name": "broken.bpmn", "mimeType": "application/xml", "buffer": b"<bpmn:oops"}],
    )
    page.wait_for_selector("#modeler-messages .error")
    assert page.evaluate("(id) => !!fzModeler.get('elementRegistry').get(id)", step_id)

    # The new step's own form, in the form-js editor with a live preview.
    page.evaluate(
        "(id) => fzModeler.get('selection').select(fzModeler.get('elementRegistry').get(id))",
        step_id,
    )
    page.click("#edit-form")
    page.wait_for_selector("#form-dialog[open] .fjs-editor-container")
    page.evaluate(ADD_FORM_FIELD)
    page.wait_for_selector("#form-preview :text('电话核实结果')")
    screenshot(page, "modeler-2-form-editor")
    page.click("#form-dialog-close")

    page.click("#check-draft")
    page.wait_for_selector("#modeler-messages .ok")
    page.fill("#deploy-comment", "登记后先电话核实")
    page.click("#deploy-draft")
    page.wait_for_selector("#modeler[data-deployed='2']")
    screenshot(page, "modeler-3-deployed")
    v2 = ProcessDefinition.objects.get(key=KEY, version=2)
    assert v2.comment == "登记后先电话核实" and v2.deployed_by == owner
    assert v2.forms[step_id]["components"][0]["key"] == "phone_result"

    # The diff marks the new step as added on version 2.
    page.goto(f"{page.base}/modeler/{KEY}/diff/?a=1&b=2")
    page.wait_for_selector("#version-diff[data-ready=true]")
    assert page.locator(f"#diff-changes tr[data-change=added][data-element={step_id}]").count()
    assert page.locator("#diff-b .fz-diff-added").count() >= 1
    # In the owner's words, old → new: the registration's flow now ends at the new step.
    flow = page.locator("#diff-changes tr[data-change=changed][data-element=flow_registered]")
    assert "终点：「村（社区）初审」（人工任务） → 「电话核实」（人工任务）" in flow.inner_text()
    seen = page.inner_text("body")
    assert "#ref:" not in seen and "bpmn:" not in seen
    screenshot(page, "modeler-4-diff")

    # The running case is at a step version 2 still has: it can move, and moves.
    page.goto(f"{page.base}/modeler/{KEY}/versions/")
    page.click("tr[data-version='2'] >> text=/Move cases here|迁移/")
    row = page.locator(f"#migration-candidates tr[data-instance='{running.instance_id}']")
    assert "movable" in (row.get_attribute("class") or "")
    row.locator("input[type=checkbox]").check()
    page.fill("input[name=reason]", "新规定")
    screenshot(page, "modeler-5-cases-that-can-move")
    page.click("#migrate-selected")
    page.wait_for_selector(".messages .success")
    screenshot(page, "modeler-6-migrated")
    running.instance.refresh_from_db()
    assert running.instance.definition == v2

    # Its replay draws each step on the version it happened on: the last on version 2.
    page.goto(f"{page.base}/audit/cases/{running.instance_id}/")
    page.wait_for_selector("#replay[data-ready=true]")
    page.click("[data-go=last]")
    page.wait_for_selector("#replay[data-diagram-version='2']")
    page.click("[data-go=first]")
    page.wait_for_selector("#replay[data-diagram-version='1']")

    # A new case runs the new step first, in the village officer's lane, with its form.
    fresh = register(staff["village"], child, requested_devices=["FZ-YD-02"])
    task = HumanTask.objects.get(instance=fresh.instance, state=HumanTaskState.OPEN)
    assert task.element_id == step_id and task.candidate_roles == ["village_officer"]
    task_claim(task_id=task.pk, user=staff["village"])
    task_complete(task_id=task.pk, user=staff["village"], data={"phone_result": "已核实"})
    assert HumanTask.objects.get(instance=fresh.instance, state=HumanTaskState.OPEN).element_id == (
        "initial_check"
    )
