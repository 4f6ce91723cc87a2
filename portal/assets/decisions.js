// The procedure's decision tables in the modeler: dmn-js's decision-table editor in a dialog,
// the edited XML kept with the draft (saved and checked with it), the server's problems of a
// table listed in its dialog and marked on their cells, and what the tables change against
// the latest version.
import DmnModeler from "dmn-js/lib/Modeler";

import "dmn-js/dist/assets/diagram-js.css";
import "dmn-js/dist/assets/dmn-js-shared.css";
import "dmn-js/dist/assets/dmn-js-drd.css";
import "dmn-js/dist/assets/dmn-js-decision-table.css";
import "dmn-js/dist/assets/dmn-js-decision-table-controls.css";
import "dmn-js/dist/assets/dmn-js-literal-expression.css";
import "dmn-js/dist/assets/dmn-font/css/dmn-embedded.css";

import { dmnZhModule } from "./dmn-zh";

export function decisionTables({ text, isZh, onChange }) {
  const source = document.getElementById("fz-decisions");
  const tables = source ? JSON.parse(source.textContent) : {};
  const dialog = document.getElementById("decision-dialog");
  const problemsByDecision = {};
  let editor = null;
  let open = null; // the decision id being edited
  let openedXml = "";

  function tableEditor() {
    if (!editor) {
      // Its own words in Chinese on zh pages, through dmn-js's translate service, in every
      // view (dmn-js takes each view's additionalModules, not common ones).
      const views = isZh ? { additionalModules: [dmnZhModule()] } : {};
      editor = new DmnModeler({
        container: "#decision-editor",
        drd: views,
        decisionTable: views,
        literalExpression: views,
        boxedExpression: views,
      });
      window.fzDmnModeler = editor; // the browser tests drive the table through it
    }
    return editor;
  }

  function markProblems(decision) {
    const list = document.getElementById("decision-problems");
    const problems = problemsByDecision[decision] || [];
    list.replaceChildren(
      ...problems.map((problem) => {
        const item = document.createElement("li");
        item.className = "error";
        const where = [problem.element, problem.line ? `${text.line} ${problem.line}` : ""];
        item.textContent = `${where.filter(Boolean).join(", ")}: ${problem.message}`;
        return item;
      }),
    );
    const container = document.getElementById("decision-editor");
    for (const cell of container.querySelectorAll(".fz-server-problem")) {
      cell.classList.remove("fz-server-problem");
    }
    for (const problem of problems) {
      if (!problem.element) continue;
      for (const cell of container.querySelectorAll(`[data-element-id="${CSS.escape(problem.element)}"]`)) {
        cell.classList.add("fz-server-problem");
      }
    }
  }

  async function edit(decision) {
    const xml = tables[decision];
    if (xml === undefined) return;
    document.getElementById("decision-dialog-title").textContent = `${text.decision} ${decision}`;
    dialog.showModal();
    const modeler = tableEditor();
    try {
      await modeler.importXML(xml);
      const view = modeler.getViews().find((v) => v.type === "decisionTable");
      if (view) await modeler.open(view);
    } catch (error) {
      document.getElementById("decision-problems").replaceChildren(
        Object.assign(document.createElement("li"), {
          className: "error",
          textContent: `${text.dmnUnreadable}: ${error.message}`,
        }),
      );
      return;
    }
    open = decision;
    openedXml = xml;
    dialog.dataset.decision = decision;
    markProblems(decision);
  }

  // The edited table, as XML (what is saved with the draft and checked).
  async function keepOpen() {
    if (open === null || !editor) return;
    const { xml } = await editor.saveXML({ format: true });
    if (xml !== openedXml) {
      tables[open] = xml;
      openedXml = xml;
      onChange();
    }
  }

  dialog.addEventListener("close", () => {
    keepOpen().finally(() => {
      open = null;
      delete dialog.dataset.decision;
    });
  });
  document.getElementById("decision-dialog-close").addEventListener("click", () => dialog.close());
  for (const button of document.querySelectorAll("[data-edit-decision]")) {
    button.addEventListener("click", () => edit(button.dataset.editDecision));
  }

  function showProblems(problems) {
    for (const key of Object.keys(problemsByDecision)) delete problemsByDecision[key];
    for (const problem of problems) {
      if (!problem.decision) continue;
      (problemsByDecision[problem.decision] ||= []).push(problem);
    }
    for (const row of document.querySelectorAll("#decision-list tr[data-decision]")) {
      row.classList.toggle("error", Boolean(problemsByDecision[row.dataset.decision]));
    }
    if (open !== null) markProblems(open);
  }

  function rule(label, row, cells) {
    const item = document.createElement("li");
    item.textContent = `${label} (${text.row} ${row}): ${cells.join(" | ")}`;
    return item;
  }

  function showChanges(changes) {
    const box = document.getElementById("decision-changes");
    box.replaceChildren();
    if (!changes || !changes.length) return;
    const title = document.createElement("h3");
    title.textContent = text.tableChanges;
    const list = document.createElement("ul");
    list.className = "table-changes";
    list.id = "table-changes";
    for (const change of changes) {
      const item = document.createElement("li");
      item.dataset.decision = change.decision;
      item.dataset.status = change.status;
      const status = { added: text.tableAdded, removed: text.tableRemoved }[change.status];
      item.textContent = `${change.decision} ${change.name}: ${status || text.tableChanged}`;
      const details = document.createElement("ul");
      if (change.hit_policy) {
        const line = document.createElement("li");
        line.textContent = `${text.hitPolicy}: ${change.hit_policy[0]} → ${change.hit_policy[1]}`;
        details.append(line);
      }
      if (change.columns) {
        const line = document.createElement("li");
        line.textContent = `${text.columns}: ${change.columns[0].join(", ")} → ${change.columns[1].join(", ")}`;
        details.append(line);
      }
      for (const r of change.rules_added) details.append(rule(text.ruleAdded, r.row, r.cells));
      for (const r of change.rules_removed) details.append(rule(text.ruleRemoved, r.row, r.cells));
      for (const r of change.rules_changed) {
        const line = rule(text.ruleChanged, r.row, r.before);
        line.textContent += ` → ${r.after.join(" | ")}`;
        details.append(line);
      }
      item.append(details);
      list.append(item);
    }
    box.append(title, list);
  }

  return {
    // What the draft holds (the open table's edits included).
    async current() {
      await keepOpen();
      return { ...tables };
    },
    edit,
    showProblems,
    showChanges,
  };
}
