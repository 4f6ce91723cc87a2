// The auditor's replay: the case's diagram (the exact version it ran on) and a stepper over its
// history. Each step paints the elements' states at that moment and fills the side panel (who,
// role, when, from where, data before/after, deadlines then, documents attached by then).
// ←/→ step, Home/End jump; the URL's ?step=N always names the step shown, so it can be shared.
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";
import "bpmn-js/dist/assets/diagram-js.css";
import "bpmn-js/dist/assets/bpmn-js.css";

function text(node, value) {
  node.textContent = value == null || value === "" ? "—" : String(value);
}

function item(tag, value, className) {
  const node = document.createElement(tag);
  node.textContent = value;
  if (className) node.className = className;
  return node;
}

class Replay {
  constructor(host, doc, viewer) {
    this.host = host;
    this.doc = doc;
    this.steps = doc.steps;
    this.viewer = viewer;
    this.canvas = viewer ? viewer.get("canvas") : null;
    this.registry = viewer ? viewer.get("elementRegistry") : null;
    this.painted = new Map(); // element id → marker class currently on it
    this.focused = null;
    this.current = -1;
    this.words = document.getElementById("fz-replay-text").dataset;
    this.dataCache = [{}]; // dataCache[i] = the data after step i-1 (built as far as needed)
    this.slider = document.getElementById("step-slider");
    this.list = document.getElementById("replay-steps");
    this.buildList();
    this.bind();
  }

  buildList() {
    const fragment = document.createDocumentFragment();
    this.steps.forEach((step, index) => {
      const li = document.createElement("li");
      li.dataset.step = String(index + 1);
      li.dataset.source = step.source;
      const link = item("a", `${index + 1}. ${step.what}${step.element ? ` · ${step.element}` : ""}`);
      link.href = `?step=${index + 1}`;
      li.append(link, item("div", `${step.when} · ${step.who || this.words.system}`, "when"));
      fragment.append(li);
    });
    this.list.replaceChildren(fragment);
  }

  bind() {
    this.slider.addEventListener("input", () => this.show(Number(this.slider.value) - 1));
    this.host.querySelectorAll("[data-go]").forEach((button) => {
      button.addEventListener("click", () => this.go(button.dataset.go));
    });
    this.list.addEventListener("click", (event) => {
      const li = event.target.closest("li[data-step]");
      if (!li) return;
      event.preventDefault();
      this.show(Number(li.dataset.step) - 1);
    });
    document.querySelectorAll("[data-step-link]").forEach((link) => {
      link.addEventListener("click", (event) => {
        event.preventDefault();
        this.show(Number(link.dataset.stepLink) - 1);
      });
    });
    document.addEventListener("keydown", (event) => {
      const target = event.target;
      const typing = target && (target.isContentEditable || /^(TEXTAREA|SELECT)$/.test(target.tagName)
        || (target.tagName === "INPUT" && target.type !== "range"));
      if (typing || event.altKey || event.ctrlKey || event.metaKey) return;
      const moves = { ArrowLeft: "prev", ArrowRight: "next", Home: "first", End: "last" };
      if (!moves[event.key]) return;
      event.preventDefault();
      this.go(moves[event.key]);
    });
    const copy = document.getElementById("step-copy-link");
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(window.location.href);
        copy.textContent = copy.dataset.copied;
      } catch {
        window.prompt("", window.location.href);
      }
    });
  }

  go(where) {
    const last = this.steps.length - 1;
    const target = { first: 0, last, prev: this.current - 1, next: this.current + 1 }[where];
    this.show(Math.min(last, Math.max(0, target)));
  }

  dataAt(index) {
    // Only the case's own events change its data; a record's event shows its own change.
    for (let i = this.dataCache.length - 1; i <= index; i += 1) {
      const next = { ...this.dataCache[i] };
      const step = this.steps[i];
      if (step.source === "instance") {
        for (const [label, , after, key] of step.changes) next[key] = [label, after];
      }
      this.dataCache.push(next);
    }
    return this.dataCache[index + 1];
  }

  paint(step) {
    if (!this.canvas) return;
    const states = this.doc.states[step.states] || {};
    const wanted = new Map();
    for (const [id, state] of Object.entries(states)) {
      if (this.registry.get(id)) wanted.set(id, `fz-s-${state}`);
    }
    for (const [id, marker] of this.painted) {
      if (wanted.get(id) !== marker) this.canvas.removeMarker(id, marker);
    }
    for (const [id, marker] of wanted) {
      if (this.painted.get(id) !== marker) this.canvas.addMarker(id, marker);
    }
    this.painted = wanted;
    if (this.focused) this.canvas.removeMarker(this.focused, "fz-focus");
    this.focused = step.element_id && this.registry.get(step.element_id) ? step.element_id : null;
    if (this.focused) this.canvas.addMarker(this.focused, "fz-focus");
    this.host.dataset.states = JSON.stringify(Object.fromEntries(
      [...wanted].map(([id, marker]) => [id, marker.replace("fz-s-", "")]),
    ));
  }

  panel(step, index) {
    text(document.getElementById("step-what"), step.what);
    text(document.getElementById("step-when"), step.when);
    text(document.getElementById("step-who"), step.who ? `${step.who}${step.user && step.user !== step.who ? ` (${step.user})` : ""}` : this.words.system);
    text(document.getElementById("step-role"), step.role);
    text(document.getElementById("step-origin"), step.origin);
    text(document.getElementById("step-element"), step.element);
    text(document.getElementById("step-stream"), `${step.stream} #${step.sequence}`);
    const problem = document.getElementById("step-problem");
    problem.hidden = !step.problem;
    problem.textContent = step.problem || "";

    const rows = step.changes.map(([label, before, after]) => {
      const tr = document.createElement("tr");
      tr.append(item("td", label), item("td", before, "before"), item("td", after, "after"));
      return tr;
    });
    const body = document.querySelector("#step-changes tbody");
    body.replaceChildren(...(rows.length ? rows : [item("tr", "")]));
    if (!rows.length) body.firstChild.append(item("td", this.words.none, "muted"));

    const deadlines = step.deadlines.map((d) => {
      const li = item("li", `${d.label}: ${d.due} — ${d.text}`, `deadline-${d.status}`);
      li.dataset.status = d.status;
      return li;
    });
    document.getElementById("step-deadlines").replaceChildren(
      ...(deadlines.length ? deadlines : [item("li", this.words.none, "muted")]),
    );

    const documents = this.doc.documents.filter((d) => d.at <= step.at).map((d) => {
      const li = document.createElement("li");
      const link = item("a", d.name);
      link.href = d.url;
      li.append(link, item("span", ` · ${d.when} · ${d.by} · SHA-256 ${d.sha256.slice(0, 12)}…`, "muted"));
      return li;
    });
    document.getElementById("step-documents").replaceChildren(
      ...(documents.length ? documents : [item("li", this.words.none, "muted")]),
    );

    const data = Object.values(this.dataAt(index)).flatMap(([label, value]) => [
      item("dt", label), item("dd", value),
    ]);
    document.getElementById("step-data").replaceChildren(...data);
  }

  // A case moved to another version is drawn on the version each step happened on.
  async switchDiagram(pk) {
    const wanted = this.doc.diagrams && this.doc.diagrams[String(pk)];
    if (!this.viewer || !wanted || this.diagram === pk) return;
    this.diagram = pk;
    const response = await fetch(wanted.url, { credentials: "same-origin" });
    await this.viewer.importXML(await response.text());
    this.viewer.get("canvas").zoom("fit-viewport", "auto");
    this.painted = new Map();
    this.focused = null;
    this.host.dataset.diagramVersion = String(wanted.version);
  }

  show(index) {
    if (!this.steps.length || index === this.current) return;
    const began = performance.now();
    const step = this.steps[index];
    if (step.diagram !== undefined && this.diagram !== undefined && step.diagram !== this.diagram) {
      this.switchDiagram(step.diagram).then(() => {
        if (this.current === index) this.paint(step);
      });
    }
    this.paint(step);
    this.panel(step, index);
    const previous = this.list.querySelector("li.current");
    if (previous) previous.classList.remove("current");
    const li = this.list.children[index];
    li.classList.add("current");
    li.scrollIntoView({ block: "nearest" });
    this.slider.value = String(index + 1);
    document.getElementById("step-counter").textContent = `${index + 1} ${this.words.of} ${this.steps.length}`;
    const url = new URL(window.location.href);
    url.searchParams.set("step", String(index + 1));
    window.history.replaceState(null, "", url);
    this.current = index;
    this.host.dataset.step = String(index + 1);
    this.lastStepMs = performance.now() - began;
  }
}

async function mount(host) {
  const began = performance.now();
  const doc = JSON.parse(document.getElementById(host.dataset.document).textContent);
  const container = host.querySelector("#replay-diagram");
  let viewer = null;
  let diagram;
  try {
    const response = await fetch(host.dataset.xmlUrl, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    viewer = new NavigatedViewer({ container });
    await viewer.importXML(await response.text());
    viewer.get("canvas").zoom("fit-viewport", "auto");
    diagram = doc.steps.length ? doc.steps[0].diagram : undefined;
  } catch (error) {
    // The history is still worth stepping through without its picture.
    container.replaceChildren(item("p", `${host.dataset.failed} (${error.message})`, "muted"));
    viewer = null;
  }
  const replay = new Replay(host, doc, viewer);
  replay.diagram = diagram; // the page loads the case's first version
  // ?step=N names a step; ?event=N the case chain's event N (as verification reports name it).
  const params = new URLSearchParams(window.location.search);
  let asked = Number(params.get("step")) || 1;
  const event = Number(params.get("event"));
  const found = event ? doc.steps.findIndex((s) => s.source === "instance" && s.sequence === event) : -1;
  if (found >= 0) asked = found + 1;
  replay.show(Math.min(doc.steps.length, Math.max(1, asked)) - 1);
  replay.firstPaintMs = performance.now() - began;
  window.fzReplay = replay;
  host.dataset.ready = "true";
}

for (const host of document.querySelectorAll("[data-fz-replay]")) {
  mount(host).catch((error) => {
    host.dataset.ready = "error";
    host.prepend(item("p", String(error), "error"));
  });
}
