"""Server-side validation of task data against a form-js schema (workflows/forms.py)."""

from __future__ import annotations

import pytest
from django.utils import translation

from workflows.forms import form_fields, validate_form_data


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


SCHEMA = {
    "components": [
        {"type": "text", "text": "intro"},
        {"type": "textfield", "key": "name", "validate": {"required": True, "maxLength": 4}},
        {"type": "textfield", "key": "code", "validate": {"pattern": "^[0-9]{3}$"}},
        {"type": "textfield", "key": "mail", "validate": {"validationType": "email"}},
        {"type": "number", "key": "size", "decimalDigits": 0, "validate": {"min": 1, "max": 20}},
        {"type": "checkbox", "key": "checked"},
        {"type": "radio", "key": "choice", "values": [{"label": "A", "value": "a"}]},
        {"type": "checklist", "key": "many", "values": [{"label": "X", "value": "x"}]},
        {"type": "select", "key": "dynamic", "valuesKey": "options"},
        {"type": "datetime", "key": "day", "subtype": "date"},
        {"type": "textfield", "key": "locked", "readonly": True, "validate": {"required": True}},
        {
            "type": "group",
            "path": "address",
            "components": [{"type": "textfield", "key": "street", "validate": {"required": True}}],
        },
        {
            "type": "textfield",
            "key": "maybe",
            "validate": {"required": True},
            "conditional": {"hide": "=checked"},
        },
    ]
}


def test_good_data_has_no_errors():
    data = {
        "name": "王秀英",
        "code": "123",
        "mail": "a@b.cn",
        "size": 3,
        "checked": True,
        "choice": "a",
        "many": ["x"],
        "dynamic": "anything",
        "day": "2025-03-01",
        "address": {"street": "解放路"},
    }
    assert validate_form_data(SCHEMA, data) == {}


def test_each_rule_gives_its_own_message():
    data = {
        "name": "王秀英王秀英",
        "code": "12a",
        "mail": "not-mail",
        "size": 2.5,
        "checked": "yes",
        "choice": "b",
        "many": ["x", "z"],
        "day": "2025-02-30",
    }
    assert validate_form_data(SCHEMA, data) == {
        "name": ["Enter at most 4 characters."],
        "code": ["Enter a value in the required format."],
        "mail": ["Enter a valid e-mail address."],
        "size": ["Enter a whole number."],
        "checked": ["Choose yes or no."],
        "choice": ["Choose one of the options."],
        "many": ["Choose only from the options."],
        "day": ["Enter a valid date."],
        "address.street": ["This field is required."],
    }


def test_types_and_ranges():
    assert validate_form_data(SCHEMA, {"name": "a", "size": "3", "address": {"street": "x"}}) == {
        "size": ["Enter a number."]
    }
    assert validate_form_data(SCHEMA, {"name": "a", "size": 0, "address": {"street": "x"}}) == {
        "size": ["Enter a number of at least 1."]
    }
    assert validate_form_data(SCHEMA, {"name": 5, "address": {"street": "x"}}) == {
        "name": ["Enter text."]
    }


def test_required_is_not_enforced_on_readonly_fields_or_ones_a_condition_may_hide():
    errors = validate_form_data(SCHEMA, {})
    assert "locked" not in errors and "maybe" not in errors
    assert errors["name"] == ["This field is required."]


def test_groups_are_flattened_into_dotted_paths():
    assert [f["_path"] for f in form_fields(SCHEMA)][-2:] == ["address.street", "maybe"]


def test_a_dynamic_list_is_checked_item_by_item():
    schema = {
        "components": [
            {
                "type": "dynamiclist",
                "path": "members",
                "components": [{"type": "number", "key": "age", "validate": {"max": 120}}],
            }
        ]
    }
    assert validate_form_data(schema, {"members": [{"age": 30}, {"age": 300}]}) == {
        "members.1.age": ["Enter a number of at most 120."]
    }
