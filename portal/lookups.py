"""Names for codes the host stores: procedures, their tasks, org units, people.

Each lookup is one query for a whole page (or none, from a cache), so a page's query count does
not grow with its rows. Org-unit names come from registry/ when it is installed; without it the
codes are shown as they are.
"""

from __future__ import annotations

from functools import lru_cache

from django.apps import apps
from django.contrib.auth import get_user_model

from workflows.models import ProcessDefinition
from workflows.scopes import Grant
from workflows.selectors.diagrams import (
    diagram_element_names,
    diagram_form_keys,
    diagram_user_tasks,
)

TOWNSHIP_KINDS = ("street", "town", "township")


def latest_definitions() -> dict[str, ProcessDefinition]:
    """The newest version of every procedure, by key (the diagram's XML left unread)."""
    latest: dict[str, ProcessDefinition] = {}
    for definition in ProcessDefinition.objects.defer("bpmn_xml").order_by("key", "-version"):
        latest.setdefault(definition.key, definition)
    return latest


def _user_tasks(sha256: str, xml: str) -> tuple[tuple[str, str], ...]:
    return diagram_user_tasks(xml)


_tasks_by_sha: dict[str, tuple[tuple[str, str], ...]] = {}


def user_tasks_of(definitions: list[ProcessDefinition]) -> dict[str, list[tuple[str, str]]]:
    """Per procedure key: its user tasks (element id, name), read from the diagram once."""
    missing = [d.pk for d in definitions if d.sha256 not in _tasks_by_sha]
    if missing:
        rows = ProcessDefinition.objects.filter(pk__in=missing).values_list("sha256", "bpmn_xml")
        for sha256, xml in rows:
            _tasks_by_sha[sha256] = _user_tasks(sha256, xml)
    return {d.key: list(_tasks_by_sha.get(d.sha256, ())) for d in definitions}


def registry_installed() -> bool:
    return apps.is_installed("registry")


def unit_names(codes) -> dict[str, str]:
    """Org-unit code → name, for the codes given (one query; empty without registry/)."""
    codes = {c for c in codes if c}
    if not codes or not registry_installed():
        return {}
    try:
        org_unit = apps.get_model("registry", "OrgUnit")
    except LookupError:
        return {}
    return dict(org_unit.objects.filter(code__in=codes).values_list("code", "name"))


def township_options(grants: list[Grant]) -> list[tuple[str, str]]:
    """The townships/streets a user's grants reach, as (code, name); one query."""
    if not registry_installed():
        return sorted({(g.scope, g.scope) for g in grants if g.scope})
    try:
        org_unit = apps.get_model("registry", "OrgUnit")
    except LookupError:
        return []
    paths = {g.path for g in grants}
    units = org_unit.objects.filter(kind__in=TOWNSHIP_KINDS, is_active=True)
    if "" not in paths:
        from django.db.models import Q

        reach = Q(pk__in=[])
        for path in paths:
            reach |= Q(path__startswith=path)
        units = units.filter(reach)
    return list(units.order_by("code").values_list("code", "name"))


def people_names(usernames) -> dict[str, str]:
    """Username → the name to show (full name, else the username); one query."""
    usernames = {u for u in usernames if u}
    if not usernames:
        return {}
    user_model = get_user_model()
    names = {}
    field = user_model.USERNAME_FIELD
    for user in user_model.objects.filter(**{f"{field}__in": usernames}).only(
        field, "first_name", "last_name"
    ):
        names[user.get_username()] = user.get_full_name().strip() or user.get_username()
    return names


def element_names(definition: ProcessDefinition) -> dict[str, str]:
    """Element id → name for every named element of a diagram (cached by content)."""
    return _element_names(definition.sha256, definition.bpmn_xml)


@lru_cache(maxsize=64)
def _element_names(sha256: str, xml: str) -> dict[str, str]:
    return diagram_element_names(xml)


@lru_cache(maxsize=64)
def _form_keys(sha256: str, xml: str) -> tuple[str, ...]:
    return diagram_form_keys(xml)


def data_labels(definition: ProcessDefinition) -> dict[str, str]:
    """Variable name → the label its field has in the procedure's forms (start and tasks)."""
    from workflows.forms import form_fields, form_name, form_schema

    labels: dict[str, str] = {}
    for key in _form_keys(definition.sha256, definition.bpmn_xml):
        schema = form_schema(form_name(key), definition)
        for field in form_fields(schema or {}):
            labels.setdefault(field["_path"], field.get("label") or field.get("dateLabel") or "")
    from workflows.extensions import variable_labels

    for name, label in variable_labels(definition.key).items():
        labels.setdefault(name, label)
    return {k: v for k, v in labels.items() if v}


def value_labels(definition: ProcessDefinition) -> dict[str, dict[str, str]]:
    """Variable name → {stored value → the option's label} for the forms' choice fields, so a
    history says 受理 rather than ``accepted``."""
    from workflows.forms import form_fields, form_name, form_schema

    options: dict[str, dict[str, str]] = {}
    for key in _form_keys(definition.sha256, definition.bpmn_xml):
        for field in form_fields(form_schema(form_name(key), definition) or {}):
            values = field.get("values")
            if isinstance(values, list):
                known = options.setdefault(field["_path"], {})
                for option in values:
                    if isinstance(option, dict) and "value" in option:
                        known.setdefault(str(option["value"]), str(option.get("label", "")))
    return options
