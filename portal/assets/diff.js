// Two versions of a procedure side by side (bpmn-js viewers), with bpmn-js-differ's result
// marked on both: added (new version), removed (old version), changed and moved (both).
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";
import { diff } from "bpmn-js-differ";
import "bpmn-js/dist/assets/diagram-js.css";
import "bpmn-js/dist/assets/bpmn-js.css";

const host = document.querySelector("[data-fz-diff]");
const text = document.getElementById("fz-diff-text").dataset;

async function viewer(container, url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const instance = new NavigatedViewer({ container });
  await instance.importXML(await response.text());
  instance.get("canvas").zoom("fit-viewport", "auto");
  return instance;
}

function mark(instance, id, marker) {
  if (instance.get("elementRegistry").get(id)) instance.get("canvas").addMarker(id, marker);
}

function row(kind, label, id, details) {
  const tr = document.createElement("tr");
  tr.dataset.change = kind;
  tr.dataset.element = id;
  for (const value of [label, id, details]) {
    const td = document.createElement("td");
    td.textContent = value;
    tr.append(td);
  }
  return tr;
}

function describe(model) {
  return model && (model.name || model.$type || "");
}

async function compare() {
  const [a, b] = await Promise.all([
    viewer(document.getElementById("diff-a"), host.dataset.aUrl),
    viewer(document.getElementById("diff-b"), host.dataset.bUrl),
  ]);
  const result = diff(a.getDefinitions(), b.getDefinitions());
  const body = document.querySelector("#diff-changes tbody");
  const rows = [];
  for (const [id, model] of Object.entries(result._added)) {
    mark(b, id, "fz-diff-added");
    rows.push(row("added", text.added, id, describe(model)));
  }
  for (const [id, model] of Object.entries(result._removed)) {
    mark(a, id, "fz-diff-removed");
    rows.push(row("removed", text.removed, id, describe(model)));
  }
  for (const [id, change] of Object.entries(result._changed)) {
    mark(a, id, "fz-diff-changed");
    mark(b, id, "fz-diff-changed");
    const attrs = Object.entries(change.attrs || {})
      .map(([name, v]) => `${name}: ${JSON.stringify(v.oldValue ?? "")} → ${JSON.stringify(v.newValue ?? "")}`)
      .join("; ");
    rows.push(row("changed", text.changed, id, `${describe(change.model)} ${attrs}`.trim()));
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
    rows.push(row("moved", text.moved, `${moved.length}`, moved.map(([id]) => id).join(", ")));
  } else {
    for (const [id, model] of moved) rows.push(row("moved", text.moved, id, describe(model)));
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
