// A case's or procedure's diagram (bpmn-js viewer) with the path taken, the current step(s)
// and incidents marked, and optional counts on elements (how many cases wait there).
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";
import "bpmn-js/dist/assets/diagram-js.css";
import "bpmn-js/dist/assets/bpmn-js.css";

function readJson(id, fallback) {
  const node = id && document.getElementById(id);
  return node ? JSON.parse(node.textContent) : fallback;
}

async function mount(host) {
  const marks = readJson(host.dataset.marks, {});
  const response = await fetch(host.dataset.xmlUrl, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const viewer = new NavigatedViewer({ container: host });
  await viewer.importXML(await response.text());
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  canvas.zoom("fit-viewport", "auto");
  const done = new Set((marks.completed || []).filter((id) => registry.get(id)));
  const current = new Set((marks.current || []).filter((id) => registry.get(id)));
  done.forEach((id) => canvas.addMarker(id, "fz-done"));
  current.forEach((id) => canvas.addMarker(id, "fz-current"));
  (marks.incident || []).filter((id) => registry.get(id)).forEach((id) => {
    canvas.addMarker(id, "fz-incident");
  });
  for (const flow of registry.filter((e) => e.type === "bpmn:SequenceFlow")) {
    const from = flow.businessObject.sourceRef && flow.businessObject.sourceRef.id;
    const to = flow.businessObject.targetRef && flow.businessObject.targetRef.id;
    if (done.has(from) && (done.has(to) || current.has(to))) canvas.addMarker(flow.id, "fz-taken");
  }
  const overlays = viewer.get("overlays");
  for (const [id, count] of Object.entries(marks.counts || {})) {
    if (!registry.get(id)) continue;
    const badge = document.createElement("div");
    badge.className = "fz-count";
    badge.textContent = String(count);
    badge.title = host.dataset.countTitle || "";
    overlays.add(id, { position: { top: -10, right: 10 }, html: badge });
  }
  host.dataset.ready = "true";
  host.dataset.marked = String(current.size);
}

for (const host of document.querySelectorAll("[data-fz-diagram]")) {
  mount(host).catch((error) => {
    const note = document.createElement("p");
    note.className = "muted";
    note.textContent = `${host.dataset.failed || "The diagram cannot be shown"} (${error.message})`;
    host.replaceChildren(note);
    host.dataset.ready = "error";
  });
}
