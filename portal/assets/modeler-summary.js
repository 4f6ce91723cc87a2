// "Who gets this task, with which form": a group at the top of a user task's properties, in the
// owner's words. Who receives it follows the engine's rule (workflows/services/assignment.py):
// the candidate groups (roles) if set, else the role the task's lane stands for (its id or name
// is a role's code, or its name a role's label); an assignee or candidate users come on top.
import { h } from "@bpmn-io/properties-panel/preact";

function templateChoices(elementTemplates, binding) {
  const template = elementTemplates.get("fuzhu.userTask");
  const property = template?.properties?.find((p) => p.binding?.name === binding);
  return property?.choices || [];
}

// Role code -> label, from the template's choices ("办理人员（code）").
function roleLabels(elementTemplates) {
  const roles = {};
  for (const choice of templateChoices(elementTemplates, "camunda:candidateGroups")) {
    if (!choice.value) continue;
    roles[choice.value] = choice.name.replace(new RegExp(`（${choice.value}）$`), "") || choice.value;
  }
  return roles;
}

function laneOf(registry, businessObject) {
  const lanes = registry.filter(
    (e) => e.type === "bpmn:Lane" && (e.businessObject.flowNodeRef || []).includes(businessObject),
  );
  // The innermost lane (a lane inside a lane holds the task too).
  return lanes.length ? lanes[lanes.length - 1].businessObject : null;
}

function roleForLane(lane, roles) {
  if (!lane) return "";
  if (roles[lane.id]) return lane.id;
  if (lane.name && roles[lane.name]) return lane.name;
  return Object.keys(roles).find((code) => roles[code] === lane.name) || "";
}

function formLabel(elementTemplates, key, text) {
  if (!key) return text.summaryNoForm;
  const choice = templateChoices(elementTemplates, "camunda:formKey").find((c) => c.value === key);
  return choice?.name || key;
}

// The lines of the summary: [label, value, kind?].
export function userTaskSummary({ element, elementTemplates, registry, text }) {
  const bo = element.businessObject;
  const roles = roleLabels(elementTemplates);
  const lines = [];
  const groups = (bo.get("camunda:candidateGroups") || "")
    .split(",")
    .map((g) => g.trim())
    .filter(Boolean);
  const lane = laneOf(registry, bo);
  if (groups.length) {
    lines.push([text.summaryRole, groups.map((g) => roles[g] || g).join("、")]);
  } else if (lane) {
    const role = roleForLane(lane, roles);
    const laneName = lane.name || lane.id;
    lines.push(
      role
        ? [text.summaryRole, `${roles[role]}（${text.summaryByLane.replace("%s", laneName)}）`]
        : [text.summaryRole, text.summaryLaneNoRole.replace("%s", laneName), "error"],
    );
  }
  if (lane && groups.length) lines.push([text.summaryLane, lane.name || lane.id]);
  const assignee = bo.get("camunda:assignee");
  if (assignee) lines.push([text.summaryAssignee, assignee]);
  const users = bo.get("camunda:candidateUsers");
  if (users) lines.push([text.summaryUsers, users]);
  if (!groups.length && !lane && !assignee && !users) {
    lines.push([text.summaryRole, text.summaryNobody, "error"]);
  }
  lines.push([text.summaryForm, formLabel(elementTemplates, bo.get("camunda:formKey"), text)]);
  return lines;
}

export function summaryModule(text) {
  function SummaryEntry({ element, injector }) {
    const lines = userTaskSummary({
      element,
      elementTemplates: injector.get("elementTemplates"),
      registry: injector.get("elementRegistry"),
      text,
    });
    return h(
      "dl",
      { class: "bio-properties-panel-entry fz-task-summary", id: "fz-task-summary" },
      lines.flatMap(([label, value, kind]) => [
        h("dt", null, label),
        h("dd", { class: kind || null }, value),
      ]),
    );
  }

  function SummaryProvider(propertiesPanel, injector) {
    propertiesPanel.registerProvider(200, {
      getGroups(element) {
        return (groups) => {
          if (element.type !== "bpmn:UserTask") return groups;
          const summary = {
            id: "fz-summary",
            label: text.summaryTitle,
            shouldOpen: true,
            entries: [{ id: "fz-summary-entry", component: SummaryEntry, injector }],
          };
          return [summary, ...groups];
        };
      },
    });
  }
  SummaryProvider.$inject = ["propertiesPanel", "injector"];

  return { __init__: ["fzSummaryProvider"], fzSummaryProvider: ["type", SummaryProvider] };
}
