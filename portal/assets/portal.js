// Small helpers for every page: select-all checkboxes for bulk actions; confirm dialogs.
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!box.matches("input[data-select-all]")) return;
  for (const row of document.querySelectorAll(`input[name="${box.dataset.selectAll}"]`)) {
    row.checked = box.checked;
  }
});

document.addEventListener("submit", (event) => {
  const question = event.submitter && event.submitter.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
