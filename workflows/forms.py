"""Server-side validation of submitted task data against a form-js schema (``*.form``).

The browser renders the same schema with form-js; this is the authority. It checks, per field
``key``: required, type (text, number, boolean, date/time, list), ``min``/``max``,
``minLength``/``maxLength``, ``pattern`` (a JavaScript regular expression, searched like
form-js does), ``validationType`` (email, phone), a registered value check named by the field's
custom property ``check`` (``citizen_id``, ``uscc`` …: one check of a kind everywhere) and
the allowed values of select, radio, checklist and taglist fields with static ``values``.
Fields inside a group with a ``path`` are checked at ``path.key``; a dynamic list is checked
item by item (``list.0.key``).

Not checked: fields whose options come from data (``valuesKey``/``valuesExpression``), and
``required`` on a field that a ``conditional`` expression may hide (FEEL runs only in the
browser). Keys the form does not name are passed through unchecked.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

from django.utils.translation import gettext as _

from . import conf

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^(\+|00)?[0-9][0-9 -]{5,20}$")
NO_DATA = {"text", "html", "image", "spacer", "separator", "button", "iframe", "table", "default"}
CHOICE = {"select", "radio"}
MULTI_CHOICE = {"checklist", "taglist"}

FieldErrors = dict[str, list[str]]


def form_name(form_key: str) -> str:
    """``embedded:app:forms/x.form`` → ``x``: the file name a form key stands for."""
    return (
        form_key.removeprefix("embedded:")
        .rsplit(":", 1)[-1]
        .rsplit("/", 1)[-1]
        .removesuffix(".form")
    )


def form_path(form_key: str) -> Path | None:
    """The ``.form`` file of a form key, or None (no key, a custom task view, or missing)."""
    if not form_key:
        return None
    name = form_name(form_key)
    for directory in conf.form_dirs():
        path = directory / f"{name}.form"
        if path.is_file():
            return path
    return None


def form_schema(form_key: str, definition=None) -> dict | None:
    """The form-js schema of a form key: as ``definition`` (a deployed version) froze it, else
    the ``.form`` file's (cached per file and modification time)."""
    if definition is not None and definition.forms and form_key:
        frozen = definition.forms.get(form_name(form_key))
        if frozen is not None:
            return frozen
    path = form_path(form_key)
    if path is None:
        return None
    return _load(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=128)
def _load(path: str, mtime: int) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def form_fields(schema: dict) -> list[dict]:
    """Every data field of a schema, with ``_path`` (dotted) set; groups flattened."""
    return list(_walk(schema.get("components") or [], prefix=""))


def _walk(components: list, *, prefix: str):
    for component in components:
        kind = component.get("type", "")
        if kind in ("group", "dynamiclist"):
            path = component.get("path") or ""
            inner = f"{prefix}{path}." if path else prefix
            if kind == "dynamiclist" and path:
                yield {**component, "_path": f"{prefix}{path}"}
                continue
            yield from _walk(component.get("components") or [], prefix=inner)
            continue
        if kind in NO_DATA or not component.get("key"):
            continue
        yield {**component, "_path": prefix + component["key"]}


def _lookup(data: dict, path: str):
    value = data
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _empty(value) -> bool:
    return value is None or value == "" or value == [] or value is False


def validate_form_data(schema: dict, data: dict) -> FieldErrors:
    """The field errors of ``data`` against ``schema``: ``{dotted key: [message, ...]}``."""
    errors: FieldErrors = {}
    for field in form_fields(schema):
        path = field["_path"]
        if field.get("disabled") or field.get("readonly") is True:
            continue
        value = _lookup(data, path)
        if field.get("type") == "dynamiclist":
            errors.update(_list_errors(field, value, path))
            continue
        messages = field_errors(field, value)
        if messages:
            errors[path] = messages
    return errors


def _list_errors(field: dict, value, path: str) -> FieldErrors:
    if value in (None, ""):
        return {}
    if not isinstance(value, list):
        return {path: [_("Enter a list.")]}
    errors: FieldErrors = {}
    for index, item in enumerate(value):
        inner = validate_form_data(
            {"components": field.get("components") or []}, item if isinstance(item, dict) else {}
        )
        errors.update({f"{path}.{index}.{key}": messages for key, messages in inner.items()})
    return errors


def field_errors(field: dict, value) -> list[str]:
    """The messages for one field's value (empty when it is fine)."""
    rules = field.get("validate") or {}
    kind = field.get("type", "")
    if _empty(value):
        hidden_maybe = bool((field.get("conditional") or {}).get("hide"))
        if rules.get("required") and not hidden_maybe:
            return [_("This field is required.")]
        return []
    checker = _CHECKERS.get(kind, _text_errors)
    return checker(field, value, rules)


def _text_errors(field: dict, value, rules: dict) -> list[str]:
    if not isinstance(value, str):
        return [_("Enter text.")]
    messages = []
    min_length, max_length = rules.get("minLength"), rules.get("maxLength")
    if _is_number(min_length) and len(value) < min_length:
        messages.append(_("Enter at least %(n)s characters.") % {"n": min_length})
    if _is_number(max_length) and len(value) > max_length:
        messages.append(_("Enter at most %(n)s characters.") % {"n": max_length})
    check = _value_check(field)
    if check is not None:
        # The kind's one check says what is wrong; the form's pattern (for form-js in the
        # browser) would only repeat it less precisely.
        problem = check(value)
        return messages + ([problem] if problem else [])
    kind = rules.get("validationType")
    if kind == "email" and not EMAIL.match(value):
        messages.append(_("Enter a valid e-mail address."))
    elif kind == "phone" and not PHONE.match(value):
        messages.append(_("Enter a valid phone number."))
    pattern = rules.get("pattern")
    if pattern and (kind in (None, "", "custom")) and not _pattern_matches(pattern, value):
        messages.append(
            rules.get("patternErrorMessage") or _("Enter a value in the required format.")
        )
    return messages


def _value_check(field: dict):
    """The registered check a field names in its custom properties, if any."""
    from .extensions import value_check

    name = (field.get("properties") or {}).get("check")
    return value_check(name) if isinstance(name, str) else None


def _pattern_matches(pattern: str, value: str) -> bool:
    try:
        return re.search(pattern, value) is not None
    except re.error:
        return True  # a pattern Python cannot read is the form author's problem, not the user's


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number_errors(field: dict, value, rules: dict) -> list[str]:
    if isinstance(value, str) and field.get("serializeToString"):
        try:
            value = Decimal(value)
        except InvalidOperation:
            return [_("Enter a number.")]
    elif not _is_number(value):
        return [_("Enter a number.")]
    messages = []
    minimum, maximum = rules.get("min"), rules.get("max")
    if _is_number(minimum) and value < minimum:
        messages.append(_("Enter a number of at least %(n)s.") % {"n": minimum})
    if _is_number(maximum) and value > maximum:
        messages.append(_("Enter a number of at most %(n)s.") % {"n": maximum})
    digits = field.get("decimalDigits")
    if isinstance(digits, int) and _decimals(value) > digits:
        if digits == 0:
            messages.append(_("Enter a whole number."))
        else:
            messages.append(_("Enter at most %(n)s decimal places.") % {"n": digits})
    return messages


def _decimals(value) -> int:
    exponent = Decimal(str(value)).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _checkbox_errors(field: dict, value, rules: dict) -> list[str]:
    return [] if isinstance(value, bool) else [_("Choose yes or no.")]


def _static_values(field: dict) -> list | None:
    if field.get("valuesKey") or field.get("valuesExpression"):
        return None
    values = field.get("values")
    if not isinstance(values, list):
        return None
    return [option.get("value") for option in values if isinstance(option, dict)]


def _choice_errors(field: dict, value, rules: dict) -> list[str]:
    allowed = _static_values(field)
    if allowed is not None and value not in allowed:
        return [_("Choose one of the options.")]
    return []


def _multi_choice_errors(field: dict, value, rules: dict) -> list[str]:
    if not isinstance(value, list):
        return [_("Choose from the options.")]
    allowed = _static_values(field)
    if allowed is not None and any(item not in allowed for item in value):
        return [_("Choose only from the options.")]
    return []


def _datetime_errors(field: dict, value, rules: dict) -> list[str]:
    if not isinstance(value, str):
        return [_("Enter a date or time.")]
    subtype = field.get("subtype", "date")
    parsers = {
        "date": (date.fromisoformat, _("Enter a valid date.")),
        "time": (lambda v: time.fromisoformat(v.removesuffix("Z")), _("Enter a valid time.")),
        "datetime": (
            lambda v: datetime.fromisoformat(v.replace("Z", "+00:00")),
            _("Enter a valid date and time."),
        ),
    }
    parse, message = parsers.get(subtype, parsers["date"])
    try:
        parse(value)
    except ValueError:
        return [message]
    return []


_CHECKERS = {
    "textfield": _text_errors,
    "textarea": _text_errors,
    "number": _number_errors,
    "checkbox": _checkbox_errors,
    "select": _choice_errors,
    "radio": _choice_errors,
    "checklist": _multi_choice_errors,
    "taglist": _multi_choice_errors,
    "datetime": _datetime_errors,
}


def task_form_errors(form_key: str, data: dict, definition=None) -> FieldErrors:
    """Field errors of ``data`` for the form a task names (as its version deployed it); none
    when it names no form."""
    schema = form_schema(form_key, definition)
    return validate_form_data(schema, data) if schema is not None else {}


def form_errors_message(errors: FieldErrors) -> str:
    listed = "; ".join(f"{key}: {' '.join(messages)}" for key, messages in errors.items())
    return _("The form has errors: %(errors)s") % {"errors": listed}
