// Two versions of a procedure side by side (bpmn-js viewers), with bpmn-js-differ's result
// marked on both: added (new version), removed (old version), changed and moved (both), and
// listed in the owner's words: names and element types, old → new.
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";
import { diff } from "bpmn-js-differ";
import "bpmn-js/dist/assets/diagram-js.css";
import "bpmn-js/dist/assets/bpmn-js.css";

import { typeName, zhTranslateModule } from "./modeler-zh";

const host = document.querySelector("[data-fz-diff]");
const text = document.getElementById("fz-diff-text").dataset;

async function viewer(container, url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const instance = new NavigatedViewer({
    container,
    additionalModules: isZh ? [zhTranslateModule()] : [],
  });
  await instance.importXML(await response.text());
  instance.get("canvas").zoom("fit-viewport", "auto");
  return instance;
}

const isZh = (document.documentElement.lang || "").startsWith("zh");

function mark(instance, id, marker) {
  if (instance.get("elementRegistry").get(id)) instance.get("canvas").addMarker(id, marker);
}

// The attributes an owner changes, in their words ([zh, en]); others by their own name.
const ATTRS = {
  name: ["名称", "Name"],
  sourceRef: ["起点", "From"],
  targetRef: ["终点", "To"],
  conditionExpression: ["条件", "Condition"],
  default: ["默认流", "Default flow"],
  documentation: ["说明", "Documentation"],
  processRef: ["流程", "Process"],
  laneSets: ["泳道", "Lanes"],
  lanes: ["泳道", "Lanes"],
  childLaneSet: ["子泳道", "Child lanes"],
  flowElements: ["流程元素", "Elements"],
  values: ["扩展属性", "Extension properties"],
  inputParameters: ["输入参数", "Input parameters"],
  outputParameters: ["输出参数", "Output parameters"],
  body: ["内容", "Content"],
  flowNodeRef: ["泳道中的元素", "Elements in the lane"],
  eventDefinitions: ["事件定义", "Event definition"],
  extensionElements: ["扩展属性", "Extension properties"],
  isExecutable: ["可执行", "Executable"],
  decisionRef: ["决策表", "Decision table"],
  calledElement: ["调用的流程", "Called process"],
  timeDuration: ["时长", "Duration"],
  timeDate: ["日期", "Date"],
  timeCycle: ["周期", "Cycle"],
  messageRef: ["消息", "Message"],
  "camunda:candidateGroups": ["办理角色", "Role"],
  "camunda:candidateUsers": ["候选人员", "Candidate users"],
  "camunda:assignee": ["办理人", "Assignee"],
  "camunda:formKey": ["表单", "Form"],
  "camunda:dueDate": ["办理期限", "Due date"],
  "camunda:topic": ["执行的功能", "Function"],
  "camunda:type": ["实现", "Implementation"],
  "camunda:modelerTemplate": ["模板", "Template"],
  "camunda:decisionRef": ["决策表", "Decision table"],
  "camunda:resultVariable": ["结果变量", "Result variable"],
  "camunda:mapDecisionResult": ["决策结果映射", "Map decision result"],
  "camunda:asyncBefore": ["之前异步", "Asynchronous before"],
  "camunda:asyncAfter": ["之后异步", "Asynchronous after"],
};
const EMPTY = isZh ? "（空）" : "(empty)";
const UNNAMED = isZh ? "（未命名）" : "(unnamed)";

// The attribute a change is in: the innermost one this knows (processRef.laneSets[0] -> lanes).
function attrLabel(path) {
  const names = path.replace(/\[\d+\]/g, "").split(".");
  const known = [...names].reverse().find((name) => ATTRS[name]);
  return known ? ATTRS[known][isZh ? 0 : 1] : names[names.length - 1];
}

function quoted(value) {
  return isZh ? `「${value}」` : `“${value}”`;
}

function compareWith(models) {
  function label(model) {
    if (!model) return "";
    const type = typeName(model.$type, isZh);
    if (!model.name) return type;
    return isZh ? `${quoted(model.name)}（${type}）` : `${quoted(model.name)} (${type})`;
  }

  function byId(id) {
    return models.get(id);
  }

  function value(v) {
    if (v === undefined || v === null || v === "") return EMPTY;
    if (typeof v === "boolean") return isZh ? (v ? "是" : "否") : v ? "yes" : "no";
    if (Array.isArray(v)) return v.length ? v.map(value).join(isZh ? "、" : ", ") : EMPTY;
    if (typeof v === "string") {
      const ref = /^#ref:(.+)$/.exec(v);
      if (ref) {
        const model = byId(ref[1]);
        return model ? label(model) : quoted(ref[1]);
      }
      return quoted(v);
    }
    if (typeof v === "object" && v.$type) {
      if (v.body !== undefined) return quoted(v.body); // an expression, a script
      if (v.text !== undefined) return quoted(v.text); // documentation
      if (v.id && byId(v.id)) return label(byId(v.id));
      if (v.name) return label(v);
      return typeName(v.$type, isZh);
    }
    return quoted(JSON.stringify(v));
  }

  // What an element is, for its row: a name and a type; a flow also where it goes.
  function element(model) {
    if (!model) return UNNAMED;
    const type = typeName(model.$type, isZh);
    const name = model.name ? quoted(model.name) : UNNAMED;
    return isZh ? `${name}（${type}）` : `${name} (${type})`;
  }

  function where(model) {
    if (!model || !model.sourceRef || !model.targetRef) return "";
    const from = label(model.sourceRef);
    const to = label(model.targetRef);
    return isZh ? `从 ${from} 到 ${to}` : `from ${from} to ${to}`;
  }

  // bpmn-js-differ (3.x) hands jsondiffpatch's [old, new] of a value to changed(model, key,
  // newValue, oldValue): there its "oldValue" is the new version's value and "newValue" the old
  // one's. An item added to or removed from a list (a path ending in [n]) comes the right way
  // round. Both are shown old → new (the browser tests pin it).
  function change(path, v) {
    const name = `${attrLabel(path)}${isZh ? "：" : ": "}`;
    if (/\[\d+\]$/.test(path)) {
      if (v.newValue && !v.oldValue) return `${name}${text.added} ${value(v.newValue)}`;
      if (v.oldValue && !v.newValue) return `${name}${text.removed} ${value(v.oldValue)}`;
      return `${name}${value(v.oldValue)} → ${value(v.newValue)}`;
    }
    return `${name}${value(v.newValue)} → ${value(v.oldValue)}`;
  }

  function changes(attrs) {
    return Object.entries(attrs || {})
      .map(([path, v]) => change(path, v))
      .join(isZh ? "；" : "; ");
  }

  return { element, where, changes };
}

function row(kind, label, id, what, details) {
  const tr = document.createElement("tr");
  tr.dataset.change = kind;
  tr.dataset.element = id;
  for (const value of [label, what, details]) {
    const td = document.createElement("td");
    td.textContent = value;
    tr.append(td);
  }
  tr.children[1].title = id; // the element's id, for who needs it
  return tr;
}

// Every element of both versions by id (the new version's first).
function modelsOf(...instances) {
  const models = new Map();
  for (const instance of instances.reverse()) {
    for (const element of instance.get("elementRegistry").getAll()) {
      if (element.businessObject && element.businessObject.id) {
        models.set(element.businessObject.id, element.businessObject);
      }
    }
  }
  return models;
}

async function compare() {
  // Old on the left, new on the right; the changes read old → new.
  const [a, b] = await Promise.all([
    viewer(document.getElementById("diff-a"), host.dataset.aUrl),
    viewer(document.getElementById("diff-b"), host.dataset.bUrl),
  ]);
  const result = diff(a.getDefinitions(), b.getDefinitions());
  const { element, where, changes } = compareWith(modelsOf(a, b));
  const body = document.querySelector("#diff-changes tbody");
  const rows = [];
  for (const [id, model] of Object.entries(result._removed)) {
    mark(a, id, "fz-diff-removed");
    rows.push(row("removed", text.removed, id, element(model), where(model)));
  }
  for (const [id, model] of Object.entries(result._added)) {
    mark(b, id, "fz-diff-added");
    rows.push(row("added", text.added, id, element(model), where(model)));
  }
  for (const [id, change] of Object.entries(result._changed)) {
    mark(a, id, "fz-diff-changed");
    mark(b, id, "fz-diff-changed");
    rows.push(row("changed", text.changed, id, element(change.model), changes(change.attrs)));
  }
  // Moving a whole diagram (say, into a new pool) moves everything: list those last, and
  // fold them when there are many.
  const moved = Object.entries(result._layoutChanged).filter(
    ([id]) => !(result._changed[id] || result._added[id] || result._removed[id]),
  );
  for (const [id] of moved) {
    mark(a, id, "fz-diff-moved");
    mark(b, id, "fz-diff-moved");
  }
  if (moved.length > 8) {
    const names = moved.map(([, model]) => element(model)).join(isZh ? "、" : ", ");
    rows.push(row("moved", text.moved, "", text.movedMany.replace("%s", moved.length), names));
  } else {
    for (const [id, model] of moved) rows.push(row("moved", text.moved, id, element(model), ""));
  }
  if (!rows.length) {
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = 3;
    td.className = "muted";
    td.textContent = text.none;
    tr.append(td);
    rows.push(tr);
  }
  body.replaceChildren(...rows);
  host.dataset.ready = "true";
  host.dataset.added = String(Object.keys(result._added).length);
}

compare().catch((error) => {
  const note = document.createElement("p");
  note.className = "error";
  note.textContent = `${host.dataset.failed} (${error.message})`;
  host.replaceChildren(note);
  host.dataset.ready = "error";
});
