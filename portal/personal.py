"""Personal numbers on the portal's pages: masked by ``registry.masking``, the one rule.

Case data, the timeline, the inbox, search results and task pages show citizen IDs,
certificate, card and phone numbers masked; the full number is on the person's registry page,
behind one recorded click. A task form keeps the fields the person edits as they are (they are
entering or confirming them); everything else it carries is masked before it reaches the page.
"""

from __future__ import annotations

from registry.masking import mask_data
from workflows.forms import form_fields


def masked(value, key: str = ""):
    return mask_data(value, key)


def editable_keys(schema: dict | None) -> set[str]:
    """Top-level data keys a form lets the person change."""
    if not schema:
        return set()
    return {
        field["_path"].split(".", 1)[0]
        for field in form_fields(schema)
        if not field.get("disabled") and field.get("readonly") is not True
    }


def shown_form_data(schema: dict | None, data: dict) -> dict:
    """The data a task page hands to its form: read-only and hidden values masked."""
    editable = editable_keys(schema)
    return {k: v if k in editable else masked(v, k) for k, v in (data or {}).items()}


def restore_masked(posted: dict, original: dict) -> dict:
    """What the form posts back, with every value the page showed masked and the person left
    untouched put back as it was: a masked ID must never overwrite the real one."""
    restored = dict(posted or {})
    for key, value in restored.items():
        if key in original and value != original[key] and value == masked(original[key], key):
            restored[key] = original[key]
    return restored
