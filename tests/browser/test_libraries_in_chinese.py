"""The libraries speak Chinese on a zh-Hans page: form-js (its select, search, date picker and
lists), bpmn-js with its properties panel, element templates and bpmnlint, dmn-js's table
editor, and the version diff — no English word of theirs in what a person sees."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.portal.conftest import PACK
from tests.workflows.services.test_decision_versions import DIAGRAM, table
from workflows.services.definitions import definition_deploy
from workflows.services.instances import instance_start
from workflows.services.tasks import task_claim

from .conftest import SCREENSHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DOCS = Path(__file__).resolve().parent.parent.parent / "docs" / "screenshots"

# The libraries' own English words that must not show on a Chinese page.
ENGLISH = [
    "Select",
    "Search",
    "Add new",
    "Errors",
    "Warnings",
    "COLLABORATION",
    "Collaboration",
    "Custom properties",
    "Applied",
    "Add Rule",
    "Add rule",
    "Hit policy",
    "Unique",
    "January",
    "December",
    "Mon",
    "Sun",
    "General",
    "Documentation",
    "bpmn:",
    "#ref:",
]

# What a person reads in a part of the page: its visible text, and the placeholders, titles
# and labels of its visible elements (what a mouse-over or a screen reader says).
SEEN = """(selector) => {
  const root = document.querySelector(selector);
  const parts = [root.innerText];
  for (const el of root.querySelectorAll("*")) {
    if (!el.checkVisibility || !el.checkVisibility()) continue;
    if (el.closest(".bjs-powered-by, .fjs-powered-by, .dmn-powered-by, .djs-powered-by")) continue;
    for (const name of ["placeholder", "title", "aria-label"]) {
      if (el.getAttribute(name)) parts.push(el.getAttribute(name));
    }
  }
  return parts.join("\\n");
}"""


def english_in(page, selector: str = "body") -> list[str]:
    seen = page.evaluate(SEEN, selector)
    found = []
    for word in ENGLISH:
        pattern = rf"(?<![A-Za-z]){re.escape(word)}(?![a-z])"
        lines = [line for line in seen.splitlines() if re.search(pattern, line)]
        if lines:
            found.append(word)
            print(f"{selector}: {word!r} in {lines[:5]}")  # shown when the test fails
    return found


def keep(page, name: str, selector: str | None = None) -> None:
    """A small screenshot of a part of the page in var/screenshots/; with DOC_SCREENSHOTS=1
    also in docs/screenshots/, the documentation's copy."""
    target = page.locator(selector) if selector else page
    for directory in [SCREENSHOTS, *([DOCS] if os.environ.get("DOC_SCREENSHOTS") else [])]:
        directory.mkdir(parents=True, exist_ok=True)
        target.screenshot(path=str(directory / f"{name}.png"))


# A user task dropped into the county's lane (what a drag from the palette ends in).
NEW_TASK = """() => {
  const m = window.fzModeler;
  const lane = m.get("elementRegistry").get("lane_county");
  const task = m.get("modeling").createShape(
    { type: "bpmn:UserTask" }, { x: lane.x + 200, y: lane.y + lane.height / 2 }, lane);
  m.get("modeling").updateLabel(task, "补充材料");
  m.get("selection").select(task);
}"""


@pytest.fixture
def widgets(township_a):
    definition_deploy(content=(FIXTURES / "bpmn" / "zh_widgets.bpmn").read_bytes(), user=None)
    instance = instance_start(process_key="zh_widgets", user=township_a, variables={})
    task = instance.human_tasks.get()
    task_claim(task_id=task.pk, user=township_a)
    return task


def test_a_form_speaks_chinese_select_search_date_picker_and_lists(page, widgets, township_a):
    log_in(page, township_a)
    page.goto(f"{page.base}/tasks/{widgets.pk}/")
    page.wait_for_selector("#fz-form[data-ready=true]")
    form = page.locator("#fz-form")
    assert form.locator("text=请选择").count() >= 1  # the empty select
    assert form.locator(".fjs-repeat-render-add", has_text="添加一项").count() == 1
    # The searchable select and the tag list: their search boxes.
    assert form.locator("input[placeholder='搜索']").count() >= 1
    form.get_by_label("乡镇").click()
    page.wait_for_selector("#fz-form .fjs-dropdownlist")
    page.keyboard.press("Escape")
    # The date picker: months and weekdays in Chinese.
    form.get_by_label("走访日期").click()
    page.wait_for_selector("#fz-form .flatpickr-calendar.open")
    calendar = page.locator("#fz-form .flatpickr-calendar")
    assert "周一" in calendar.inner_text()
    months = calendar.locator(".flatpickr-monthDropdown-months").inner_text()
    assert re.search("[一二三四五六七八九十]+月", months)
    assert english_in(page, "#fz-form") == []
    keep(page, "zh-form-date-picker", "#fz-form")
    page.keyboard.press("Escape")
    assert english_in(page) == []


def test_the_modeler_speaks_chinese(page, renewal, owner):
    log_in(page, owner)
    page.goto(f"{page.base}/modeler/certificate_renewal/")
    page.wait_for_selector("#modeler[data-ready=true]")
    page.wait_for_selector(".bjsl-button")
    assert "个错误" in page.inner_text(".bjsl-button")
    # The collaboration's properties (the panel's header and groups).
    assert "协作" in page.inner_text("#modeler-properties")

    # A user task: its template applied, its custom properties, who receives it and its form.
    page.evaluate(
        "() => fzModeler.get('selection').select(fzModeler.get('elementRegistry')"
        ".get('township_check'))"
    )
    summary = page.locator("#fz-task-summary")
    summary.wait_for()
    text = summary.inner_text()
    assert "乡镇残联工作人员" in text and "表单" in text
    panel = page.inner_text("#modeler-properties")
    assert "人工任务" in panel
    # A new user task takes Fuzhu's template: the badge, its custom properties, its summary.
    page.evaluate(NEW_TASK)
    page.wait_for_selector("#modeler-properties .bio-properties-panel-applied-template-button")
    panel = page.inner_text("#modeler-properties")
    assert "已应用" in panel and "扶助属性" in panel
    assert "按泳道「县残联工作人员」" in page.inner_text("#fz-task-summary")
    assert english_in(page, "#modeler-properties") == []
    page.evaluate(
        "() => fzModeler.get('selection').select(fzModeler.get('elementRegistry')"
        ".get('township_check'))"
    )
    # The context pad and the replace menu.
    page.hover(".djs-context-pad .entry")
    page.click(".djs-context-pad [data-action='replace']")
    page.wait_for_selector(".djs-popup")
    assert "服务任务" in page.inner_text(".djs-popup")
    assert english_in(page, ".djs-popup") == []
    page.keyboard.press("Escape")
    assert english_in(page, "#modeler-canvas") == []
    assert english_in(page, "#modeler-properties") == []
    keep(page, "zh-modeler", "#modeler")
    assert english_in(page) == []

    # The form editor (its palette and properties panel) and its preview.
    page.click("#edit-form")
    page.wait_for_selector("#form-dialog[open] .fjs-editor-container")
    page.click("#form-editor .fjs-element[data-field-type=textfield] >> nth=0")
    page.wait_for_selector("#form-editor .fjs-palette-field-text")
    assert "单行文本" in page.inner_text("#form-editor")
    assert english_in(page, "#form-dialog") == []


def test_the_modeler_in_english_stays_english(page, renewal, owner):
    log_in(page, owner)
    page.select_option("#language-switch", "en")
    page.wait_for_selector("h1:has-text('Inbox')")
    page.goto(f"{page.base}/modeler/certificate_renewal/")
    page.wait_for_selector("#modeler[data-ready=true]")
    page.evaluate(
        "() => fzModeler.get('selection').select(fzModeler.get('elementRegistry')"
        ".get('township_check'))"
    )
    page.locator("#fz-task-summary").wait_for()
    assert "by the lane" in page.inner_text("#fz-task-summary")
    assert "USER TASK" in page.inner_text("#modeler-properties")


# Where the start event's label is, and where the palette ends (px in the page).
START_LABEL = """() => {
  const registry = fzModeler.get("elementRegistry");
  const start = registry.filter((e) => e.type === "bpmn:StartEvent")[0];
  const label = registry.getGraphics(start.label || start).getBoundingClientRect();
  const palette = document.querySelector(".djs-palette").getBoundingClientRect();
  return { left: label.left, paletteRight: palette.right };
}"""


def test_the_palette_does_not_hide_the_start_event_on_open(page, owner):
    # A diagram without a pool starts at its left edge: fit-viewport alone put its start event
    # and label under the palette.
    content = (PACK / "bpmn" / "petition_first_receiver.bpmn").read_bytes()
    definition_deploy(content=content, user=None)
    log_in(page, owner)
    page.goto(f"{page.base}/modeler/petition_first_receiver/")
    page.wait_for_selector("#modeler[data-ready=true]")
    where = page.evaluate(START_LABEL)
    assert where["left"] > where["paletteRight"]


def test_a_bad_upload_into_the_modeler_says_so_plainly(page, renewal, owner):
    log_in(page, owner)
    page.goto(f"{page.base}/modeler/certificate_renewal/")
    page.wait_for_selector("#modeler[data-ready=true]")
    for content in (b"<bpmn:oops", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"<a><b/></a>"):
        page.set_input_files(
            "#upload-bpmn",
            files=[{"name": "broken.bpmn", "mimeType": "application/xml", "buffer": content}],
        )
        page.wait_for_selector("#modeler-messages .error")
        assert page.inner_text("#modeler-messages") == "不是有效的 BPMN 流程图（.bpmn）。"
        page.evaluate("document.getElementById('modeler-messages').replaceChildren()")
    assert page.evaluate("!!fzModeler.get('elementRegistry').get('township_check')")


@pytest.fixture
def grading(settings, tmp_path):
    directory = tmp_path / "dmn"
    directory.mkdir()
    (directory / "band.dmn").write_text(table(), encoding="utf-8")
    settings.WORKFLOWS = {**settings.WORKFLOWS, "DMN_DIRS": [directory]}
    return definition_deploy(content=DIAGRAM, user=None).definition


def test_the_decision_table_editor_speaks_chinese(page, grading, make_user):
    owner = make_user("owner", ("process_owner", ""))
    log_in(page, owner)
    page.goto(f"{page.base}/modeler/grading/")
    page.wait_for_selector("#modeler[data-ready=true]")
    page.click("[data-edit-decision=subsidy_band]")
    page.wait_for_selector("#decision-dialog[open] .tjs-container")
    editor = page.locator("#decision-editor")
    assert "命中策略" in editor.inner_text()
    assert editor.locator("[title='添加规则']").count() == 1
    # The context menu of a rule.
    editor.locator("td[data-element-id='r1']").first.click(button="right")
    page.wait_for_selector("#decision-editor .context-menu")
    assert "删除规则" in page.inner_text("#decision-editor .context-menu")
    assert english_in(page, "#decision-dialog") == []
    page.keyboard.press("Escape")
    keep(page, "zh-decision-table", "#decision-dialog")


def test_the_version_diff_reads_old_to_new_in_the_owners_words(page, renewal, owner):
    xml = renewal.bpmn_xml.replace('name="乡镇初审"', 'name="乡镇初审（含入户）"')
    definition_deploy(content=xml.encode(), user=owner, comment="改名")
    log_in(page, owner)
    page.goto(f"{page.base}/modeler/certificate_renewal/diff/?a=2&b=1")  # picked backwards
    page.wait_for_selector("#version-diff[data-ready=true]")
    headings = page.locator("#version-diff h2").all_inner_texts()
    assert headings == ["旧版本 1", "新版本 2"]
    changed = page.locator("#diff-changes tr[data-change=changed][data-element=township_check]")
    text = changed.inner_text()
    assert "「乡镇初审（含入户）」（人工任务）" in text  # as it is now
    assert "名称：「乡镇初审」 → 「乡镇初审（含入户）」" in text
    assert english_in(page) == []
    keep(page, "zh-version-diff")

    # In English, the same in English words.
    page.select_option("#language-switch", "en")
    page.wait_for_selector("#version-diff[data-ready=true]")
    changed = page.locator("#diff-changes tr[data-change=changed][data-element=township_check]")
    assert "Name: “乡镇初审” → “乡镇初审（含入户）”" in changed.inner_text()
    assert "(User task)" in changed.inner_text()
