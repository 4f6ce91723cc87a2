// The process owner's modeler: bpmn-js with the Camunda 7 properties panel, element templates
// (roles, handlers and forms to pick from), bpmnlint in the browser, the server's own checks
// marked on the diagram, drafts saved with their revision, deploy, the form-js editor, and the
// decision tables with dmn-js (decisions.js).
import BpmnModeler from "bpmn-js/lib/Modeler";
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CamundaPlatformPropertiesProviderModule,
} from "bpmn-js-properties-panel";
import CamundaBehaviorsModule from "camunda-bpmn-js-behaviors/lib/camunda-platform";
import camundaModdle from "camunda-bpmn-moddle/resources/camunda.json";
import { ElementTemplatesPropertiesProviderModule } from "bpmn-js-element-templates";
import lintModule from "bpmn-js-bpmnlint";
import { FormEditor } from "@bpmn-io/form-js-editor";
import { Form } from "@bpmn-io/form-js-viewer";

import "bpmn-js/dist/assets/diagram-js.css";
import "bpmn-js/dist/assets/bpmn-js.css";
import "bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css";
import "@bpmn-io/properties-panel/dist/assets/properties-panel.css";
import "bpmn-js-element-templates/dist/assets/element-templates.css";
import "bpmn-js-bpmnlint/dist/assets/css/bpmn-js-bpmnlint.css";
import "@bpmn-io/form-js-editor/dist/assets/form-js-editor.css";
import "@bpmn-io/form-js-viewer/dist/assets/form-js.css";

import { decisionTables } from "./decisions";
import { lintConfig } from "./lint";
import { translateDom, translateForm } from "./form-zh";
import { summaryModule } from "./modeler-summary";
import { zhTranslateModule } from "./modeler-zh";

const host = document.getElementById("modeler");
const text = document.getElementById("fz-modeler-text").dataset;
const csrf = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/)?.[1] || "";
const isZh = (document.documentElement.lang || "").startsWith("zh");

const state = {
  revision: Number(host.dataset.revision),
  forms: {},
  dirty: false,
  lintErrors: 0,
  serverMarked: [],
};

const modeler = new BpmnModeler({
  container: "#modeler-canvas",
  propertiesPanel: { parent: "#modeler-properties" },
  linting: { bpmnlint: lintConfig, active: true },
  moddleExtensions: { camunda: camundaModdle },
  additionalModules: [
    BpmnPropertiesPanelModule,
    BpmnPropertiesProviderModule,
    CamundaPlatformPropertiesProviderModule,
    CamundaBehaviorsModule,
    ElementTemplatesPropertiesProviderModule,
    lintModule,
    summaryModule(text),
    ...(isZh ? [zhTranslateModule()] : []),
  ],
});
window.fzModeler = modeler; // the browser tests drive the diagram through it
// The few words the properties panel writes without its translate service.
if (isZh) translateDom(document.getElementById("modeler-properties"), { "Select a template": "选择模板" });

const tablesUi = decisionTables({
  text,
  isZh,
  onChange() {
    state.dirty = true;
  },
});

const eventBus = modeler.get("eventBus");
const canvas = modeler.get("canvas");
const overlays = modeler.get("overlays");
const registry = modeler.get("elementRegistry");

function say(message, kind = "ok") {
  const box = document.getElementById("modeler-messages");
  const line = document.createElement("p");
  line.className = kind;
  if (kind === "error") line.setAttribute("role", "alert");
  line.textContent = message;
  box.replaceChildren(line);
}

async function send(url, method, body) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": decodeURIComponent(csrf) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = {};
  try {
    data = await response.json();
  } catch (error) {
    data = { error: `HTTP ${response.status}` };
  }
  return { status: response.status, ok: response.ok, data };
}

// The whole diagram in view, beside the palette rather than under it (fit-viewport alone puts
// the start event, and its label, behind the palette).
function fitDiagram() {
  canvas.zoom("fit-viewport", "auto");
  const { inner, outer } = canvas.viewbox();
  if (!inner.width || !inner.height) return;
  const container = canvas.getContainer().getBoundingClientRect();
  const palette = canvas.getContainer().querySelector(".djs-palette");
  const pad = 16;
  const left = palette ? palette.getBoundingClientRect().right - container.left + pad : pad;
  const width = container.width - left - pad;
  const height = container.height - 2 * pad;
  if (width <= 0 || height <= 0) return;
  const scale = Math.min(1, width / inner.width, height / inner.height);
  canvas.viewbox({
    x: inner.x - left / scale,
    y: inner.y - (pad + (height - inner.height * scale) / 2) / scale,
    width: (outer.width || container.width) / scale,
    height: (outer.height || container.height) / scale,
  });
}

// --- loading --------------------------------------------------------------------------------

async function load() {
  const draft = await send(host.dataset.draftUrl, "GET");
  if (!draft.ok) throw Object.assign(new Error(draft.data.error), { said: draft.data.error });
  state.revision = draft.data.revision;
  state.forms = draft.data.forms || {};
  let xml = draft.data.bpmn_xml;
  if (host.dataset.openUrl) {
    const response = await fetch(host.dataset.openUrl, { credentials: "same-origin" });
    xml = await response.text();
  }
  await modeler.importXML(xml);
  fitDiagram();
  const templates = await send(host.dataset.templatesUrl, "GET");
  if (templates.ok) modeler.get("elementTemplates").set(templates.data);
  state.dirty = Boolean(host.dataset.openUrl);
  host.dataset.ready = "true";
}

// --- pick, don't type: every user or service task takes Fuzhu's template ------------------

function applyFuzhuTemplate(shape) {
  if (!shape || !shape.businessObject) return;
  const templates = modeler.get("elementTemplates");
  const type = shape.businessObject.$type;
  const id = { "bpmn:UserTask": "fuzhu.userTask", "bpmn:ServiceTask": "fuzhu.serviceTask" }[type];
  if (!id || shape.businessObject.get("camunda:modelerTemplate")) return;
  const template = templates.get(id);
  if (template) templates.applyTemplate(shape, template);
}

// New shapes take the default templates (isDefault); a task whose type is changed takes it here.
eventBus.on("commandStack.shape.replace.postExecuted", ({ context }) => {
  applyFuzhuTemplate(context.newShape);
});

// The properties panel's "select template" button: a plain chooser of the applicable ones.
eventBus.on("elementTemplates.select", ({ element }) => {
  const dialog = document.getElementById("template-dialog");
  const list = document.getElementById("template-choices");
  const templates = modeler.get("elementTemplates").getAll(element);
  list.replaceChildren(
    ...templates.map((template) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = template.name;
      button.addEventListener("click", () => {
        modeler.get("elementTemplates").applyTemplate(element, template);
        dialog.close();
      });
      item.append(button);
      return item;
    }),
  );
  dialog.showModal();
});
document.getElementById("template-dialog-close").addEventListener("click", () => {
  document.getElementById("template-dialog").close();
});

// --- checks: bpmnlint while editing, the server's on demand --------------------------------

eventBus.on("linting.completed", ({ issues }) => {
  let errors = 0;
  for (const list of Object.values(issues)) {
    errors += list.filter((issue) => issue.category === "error").length;
  }
  state.lintErrors = errors;
  host.dataset.lintErrors = String(errors);
});

eventBus.on("commandStack.changed", () => {
  state.dirty = true;
  clearServerMarks();
});

function clearServerMarks() {
  overlays.remove({ type: "fz-problem" });
  for (const id of state.serverMarked) canvas.removeMarker(id, "fz-server-problem");
  state.serverMarked = [];
}

function showProblems(problems) {
  clearServerMarks();
  const list = document.getElementById("problems");
  list.replaceChildren();
  for (const problem of problems) {
    const item = document.createElement("li");
    item.className = "error";
    const where = problem.element ? `${problem.element}${problem.line ? ` (${problem.line})` : ""}: ` : "";
    item.textContent = where + problem.message;
    if (problem.decision) {
      // A decision table's problem: its element and line are the table's; open it there.
      item.dataset.decision = problem.decision;
      item.addEventListener("click", () => tablesUi.edit(problem.decision));
    } else if (problem.element && registry.get(problem.element)) {
      item.dataset.element = problem.element;
      item.addEventListener("click", () => modeler.get("selection").select(registry.get(problem.element)));
      if (!state.serverMarked.includes(problem.element)) {
        canvas.addMarker(problem.element, "fz-server-problem");
        state.serverMarked.push(problem.element);
      }
      const note = document.createElement("div");
      note.className = "fz-problem-note";
      note.textContent = problem.message;
      overlays.add(problem.element, "fz-problem", { position: { bottom: -6, left: 0 }, html: note });
    }
    list.append(item);
  }
  tablesUi.showProblems(problems);
  host.dataset.serverProblems = String(problems.length);
}

async function currentXml() {
  const { xml } = await modeler.saveXML({ format: true });
  return xml;
}

async function check() {
  const result = await send(host.dataset.checkUrl, "POST", {
    bpmn_xml: await currentXml(),
    forms: state.forms,
    decisions: await tablesUi.current(),
  });
  if (!result.ok) {
    say(result.data.error, "error");
    return false;
  }
  const formProblems = Object.entries(result.data.form_problems || {}).map(([name, messages]) => ({
    element: "",
    message: `${name}.form: ${messages.join(" ")}`,
  }));
  showProblems([...result.data.problems, ...formProblems]);
  tablesUi.showChanges(result.data.decision_changes);
  say(result.data.ok ? text.checkedOk : text.checkedBad, result.data.ok ? "ok" : "error");
  return result.data.ok;
}

// --- drafts and deploy ----------------------------------------------------------------------

async function save() {
  const result = await send(host.dataset.draftUrl, "POST", {
    bpmn_xml: await currentXml(),
    forms: state.forms,
    decisions: await tablesUi.current(),
    revision: state.revision,
  });
  if (!result.ok) {
    say(`${result.status === 409 ? text.conflict : text.invalid}: ${result.data.error}`, "error");
    host.dataset.lastSave = String(result.status);
    return false;
  }
  state.revision = result.data.revision;
  state.dirty = false;
  host.dataset.revision = String(state.revision);
  host.dataset.lastSave = "200";
  say(text.saved.replace("%s", state.revision));
  return true;
}

async function deploy(comment) {
  if (state.lintErrors) {
    say(text.lint, "error");
    return;
  }
  if (!comment.trim()) {
    say(text.commentNeeded, "error");
    return;
  }
  if (state.dirty && !(await save())) return;
  const result = await send(host.dataset.deployUrl, "POST", { revision: state.revision, comment });
  if (!result.ok) {
    say(`${text.refused}: ${result.data.error}`, "error");
    if (result.data.problems) showProblems(result.data.problems);
    return;
  }
  const version = result.data.version;
  const message = (result.data.created ? text.deployed : text.unchanged).replace("%s", version);
  say(message);
  const box = document.getElementById("modeler-messages");
  const link = document.createElement("a");
  link.href = `${host.dataset.versionsUrl.replace(/versions\/$/, "")}v${version}/migrate/`;
  link.id = "migrate-link";
  link.textContent = text.migrate;
  box.firstChild.append(" ", link);
  host.dataset.deployed = String(version);
}

// --- files ----------------------------------------------------------------------------------

async function download() {
  const blob = new Blob([await currentXml()], { type: "application/xml" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = `${host.dataset.key}.bpmn`;
  link.click();
  URL.revokeObjectURL(link.href);
}

async function upload(file) {
  const content = await file.text();
  const before = await currentXml(); // unsaved edits included: a bad file must not cost them
  // A file that is not a diagram says so plainly: no parser dump, none of its bytes.
  const looksLikeBpmn = /<([\w-]+:)?definitions[\s>]/.test(content) && !content.includes("\u0000");
  try {
    if (!looksLikeBpmn) throw new Error("not a BPMN file");
    await modeler.importXML(content);
  } catch (error) {
    say(text.unreadable, "error");
    await modeler.importXML(before);
    fitDiagram();
    return;
  }
  fitDiagram();
  state.dirty = true;
}

// --- forms ----------------------------------------------------------------------------------

function selectedFormTask() {
  const selected = modeler.get("selection").get();
  if (selected.length !== 1) return null;
  const element = selected[0];
  const type = element.businessObject.$type;
  return type === "bpmn:UserTask" || type === "bpmn:StartEvent" ? element : null;
}

eventBus.on("selection.changed", () => {
  document.getElementById("edit-form").disabled = !selectedFormTask();
});

function formNameOf(key) {
  return key.replace(/^embedded:/, "").split(":").pop().split("/").pop().replace(/\.form$/, "");
}

let formEditor = null;
let preview = null;

async function editForm() {
  const element = selectedFormTask();
  if (!element) {
    say(text.noForm, "error");
    return;
  }
  let key = element.businessObject.get("camunda:formKey");
  if (!key) {
    // A new form for this task, named after it.
    key = element.id;
    modeler.get("modeling").updateProperties(element, { "camunda:formKey": key });
  }
  const name = formNameOf(key);
  const schema = state.forms[name] || { type: "default", id: name, components: [] };
  state.forms[name] = schema;
  const dialog = document.getElementById("form-dialog");
  document.getElementById("form-dialog-title").textContent = `${name}.form`;
  dialog.showModal();
  if (!formEditor) {
    formEditor = new FormEditor({ container: document.getElementById("form-editor") });
    window.fzFormEditor = formEditor;
    preview = new Form({ container: document.getElementById("form-preview") });
    if (isZh) {
      translateForm(document.getElementById("form-editor"), { editor: true });
      translateForm(document.getElementById("form-preview"));
    }
  }
  await formEditor.importSchema(schema);
  await preview.importSchema(schema);
  formEditor.off("changed");
  formEditor.on("changed", async () => {
    const edited = formEditor.saveSchema();
    state.forms[name] = edited;
    state.dirty = true;
    await preview.importSchema(edited);
  });
  dialog.dataset.form = name;
}

document.getElementById("form-dialog-close").addEventListener("click", () => {
  document.getElementById("form-dialog").close();
});

// --- wiring ---------------------------------------------------------------------------------

document.getElementById("save-draft")?.addEventListener("click", save);
document.getElementById("check-draft").addEventListener("click", check);
document.getElementById("download-bpmn").addEventListener("click", download);
document.getElementById("edit-form").addEventListener("click", editForm);
document.getElementById("upload-bpmn").addEventListener("change", (event) => {
  const [file] = event.target.files;
  if (file) upload(file);
  event.target.value = "";
});
document.getElementById("deploy-form")?.addEventListener("submit", (event) => {
  event.preventDefault();
  deploy(document.getElementById("deploy-comment").value);
});
document.getElementById("open-version").addEventListener("change", (event) => {
  const version = event.target.value;
  window.location.href = host.dataset.modelerUrl + (version ? `?version=${version}` : "");
});
window.addEventListener("beforeunload", (event) => {
  if (state.dirty) {
    event.preventDefault();
    event.returnValue = text.unsaved;
  }
});

// The server's refusal as it says it; a diagram that cannot be drawn, plainly so.
load().catch((error) => {
  say(error.said || text.unreadable, "error");
  host.dataset.ready = "error";
});
