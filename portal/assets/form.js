// A task's or start event's form: form-js renders the schema; the server validates and
// answers with field errors, which are shown beside their fields with the data as typed.
import { Form } from "@bpmn-io/form-js-viewer";
import "@bpmn-io/form-js-viewer/dist/assets/form-js.css";
import "@bpmn-io/form-js-viewer/dist/assets/flatpickr/light.css";

import { translateForm } from "./form-zh";

const isZh = (document.documentElement.lang || "").startsWith("zh");

// The server is the authority on validation (and speaks the user's language): form-js's own
// checks, whose messages are English only, are replaced by the server's answer. A field keeps
// the server's errors while it still holds the value the server judged; editing clears them.
const serverErrors = { byId: {}, judged: {} };

function sameValue(a, b) {
  return JSON.stringify(a === undefined ? null : a) === JSON.stringify(b === undefined ? null : b);
}

const serverValidation = {
  validator: [
    "value",
    {
      validateField: () => [],
      validateFieldInstance(fieldInstance, value) {
        const errors = serverErrors.byId[fieldInstance.id];
        if (!errors || !sameValue(value, serverErrors.judged[fieldInstance.id])) return [];
        return errors;
      },
    },
  ],
};

function readJson(id, fallback) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : fallback;
}

function fieldIdsByPath(form) {
  const ids = {};
  const paths = form.get("pathRegistry");
  for (const field of form.get("formFieldRegistry").getAll()) {
    if (!field.key && !field.path) continue;
    let path = null;
    try {
      path = paths.getValuePath(field);
    } catch (e) {
      path = null;
    }
    const dotted = Array.isArray(path) ? path.join(".") : field.key;
    if (dotted) ids[dotted] = field.id;
  }
  return ids;
}

async function mount(host) {
  const schema = readJson(host.dataset.schema, null);
  const data = readJson(host.dataset.data, {});
  const errors = readJson(host.dataset.errors, {});
  // No debouncing of typed values: form-js otherwise applies a value 300 ms after the last
  // keystroke, and a task submitted within that time (Enter, or a quick click) sent the value
  // typed before.
  const form = new Form({ container: host, additionalModules: [serverValidation], debounce: false });
  if (isZh) translateForm(host);
  await form.importSchema(schema, data);
  if (Object.keys(errors).length) {
    const ids = fieldIdsByPath(form);
    const byId = {};
    for (const [path, messages] of Object.entries(errors)) {
      if (!ids[path]) continue;
      byId[ids[path]] = messages;
      serverErrors.judged[ids[path]] = path.split(".").reduce((v, k) => (v ? v[k] : undefined), data);
    }
    serverErrors.byId = byId;
    form._setState({ errors: byId });
  }
  const target = document.getElementById(host.dataset.target);
  const input = target.querySelector("input[name=data]");
  target.addEventListener("submit", () => {
    input.value = JSON.stringify(form._getSubmitData());
  });
  host.dataset.ready = "true";
}

for (const host of document.querySelectorAll("[data-fz-form]")) {
  mount(host).catch((error) => {
    host.textContent = host.dataset.failed || String(error);
    host.dataset.ready = "error";
  });
}
