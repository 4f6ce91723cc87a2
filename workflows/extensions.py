"""Extension points that processes/ fills: service-task handlers and custom task views.

A handler is a function ``handler(variables: dict) -> dict | None``; what it returns is merged
into the process variables. Register it under the name a diagram's ``camunda:topic`` uses.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from . import conf

Handler = Callable[[dict], dict | None]


@dataclass(frozen=True)
class RegisteredHandler:
    name: str
    func: Handler
    label: str
    asynchronous: bool = False
    max_attempts: int = 3
    backoff_seconds: float = 30.0


_handlers: dict[str, RegisteredHandler] = {}
_task_views: dict[str, str] = {}
_completion_hooks: dict[str, Callable] = {}
_read_guards: dict[str, Callable] = {}
_visible_lists: dict[str, Callable] = {}
_start_services: dict[str, Callable] = {}


def service_handler(
    name: str,
    *,
    label: str = "",
    asynchronous: bool = False,
    max_attempts: int = 3,
    backoff_seconds: float = 30.0,
):
    """Decorator: make ``func`` the handler of service tasks with ``camunda:topic=name``.

    An asynchronous handler runs as a background job while the instance waits; a failure is
    retried ``max_attempts`` times in all, ``backoff_seconds`` doubling each time, then the
    instance goes into ``incident``. Handlers must be idempotent: a job may run again after a
    worker dies mid-way."""

    def register(func: Handler) -> Handler:
        _handlers[name] = RegisteredHandler(
            name, func, label or name, asynchronous, max_attempts, backoff_seconds
        )
        return func

    return register


def unregister_handler(name: str) -> None:
    _handlers.pop(name, None)


def get_handler(name: str) -> RegisteredHandler | None:
    return _handlers.get(name)


def handler_names() -> list[str]:
    return sorted(_handlers)


def async_topics() -> frozenset[str]:
    return frozenset(name for name, handler in _handlers.items() if handler.asynchronous)


def register_task_view(form_key: str, label: str = "") -> None:
    """Declare that a portal view renders tasks with this form key (instead of a .form file)."""
    _task_views[form_key] = label or form_key


def task_views() -> dict[str, str]:
    """Form keys a portal view renders, with their labels."""
    return dict(_task_views)


def register_completion_hook(form_key: str, hook: Callable) -> None:
    """Run ``hook(task=, instance=, user=, data=) -> dict`` when a task with this form key is
    completed, through any door (portal, API), inside the completion's transaction.

    The hook validates the data (raising InvalidInput), applies it to the procedure's domain
    records, and returns the data the process continues with."""
    _completion_hooks[form_key] = hook


def completion_hook(form_key: str) -> Callable | None:
    return _completion_hooks.get(form_key)


def register_read_guard(process_key: str, guard: Callable, visible: Callable) -> None:
    """Make a procedure confidential: only ``guard(user, instance) -> bool`` (and the roles that
    read everything) decide who may read its instances, not the org-unit scope.
    ``visible(user)`` answers the same for lists: a queryset of the instance ids the user may
    read."""
    _read_guards[process_key] = guard
    _visible_lists[process_key] = visible


def visible_instance_ids(process_key: str) -> Callable | None:
    return _visible_lists.get(process_key)


def read_guard(process_key: str) -> Callable | None:
    return _read_guards.get(process_key)


def confidential_process_keys() -> frozenset[str]:
    return frozenset(_read_guards)


def register_start_service(process_key: str, service: Callable) -> None:
    """Hand every start of this procedure to ``service(user=, org_unit=, business_key=,
    variables=) -> ProcessInstance`` (e.g. to create its domain record first)."""
    _start_services[process_key] = service


def start_service(process_key: str) -> Callable | None:
    return _start_services.get(process_key)


def form_exists(form_key: str) -> bool:
    if form_key in _task_views:
        return True
    name = form_key.removeprefix("embedded:").rsplit(":", 1)[-1].removesuffix(".form")
    return any((directory / f"{name}.form").is_file() for directory in conf.form_dirs())


def load_extension_modules() -> None:
    for module in conf.get("HANDLER_MODULES"):
        importlib.import_module(module)


@dataclass(frozen=True)
class RecordEvent:
    """An event from outside the case's own chain, shown in its history (a registry view of a
    full ID number, say): when, who, what, and the chain and position it is kept at."""

    at: object  # datetime
    actor: str
    kind: str
    label: str
    source: str  # "registry", …
    sequence: int
    payload: dict


@dataclass(frozen=True)
class CaseRecords:
    """Where a case's domain history is kept: its records' audit streams (``petition:12``) and
    events of other chains that concern it."""

    streams: tuple[str, ...] = ()
    events: tuple[RecordEvent, ...] = ()


_case_records: dict[str, Callable] = {}


def register_case_records(process_key: str, finder: Callable) -> None:
    """``finder(instance) -> CaseRecords``: the domain history an auditor sees with the case."""
    _case_records[process_key] = finder


def case_records(instance) -> CaseRecords:
    finder = _case_records.get(instance.definition.key)
    return finder(instance) if finder else CaseRecords()


_variable_labels: dict[str, dict[str, str]] = {}


def register_variable_labels(process_key: str, labels: dict[str, str]) -> None:
    """Names for variables no form field names (deadlines and people the services compute),
    shown wherever a case's data is (case page, history, exports)."""
    _variable_labels.setdefault(process_key, {}).update(labels)


def variable_labels(process_key: str) -> dict[str, str]:
    return _variable_labels.get(process_key, {})


_person_searches: dict[str, Callable] = {}


def register_person_search(process_key: str, search: Callable) -> None:
    """``search(text) -> queryset of instance ids`` whose records concern a person matching
    ``text`` (name or ID number): the auditors' search by person reaches into the records."""
    _person_searches[process_key] = search


def person_searches() -> list[Callable]:
    return list(_person_searches.values())


_record_change_labels: dict[str, dict[str, str]] = {}


def register_record_changes(process_key: str, labels: dict[str, str]) -> None:
    """What each change a procedure records on its domain records is called (``registered`` →
    登记), for the history auditors read."""
    _record_change_labels.setdefault(process_key, {}).update(labels)


def record_change_labels(process_key: str) -> dict[str, str]:
    return _record_change_labels.get(process_key, {})


_value_checks: dict[str, Callable[[str], str | None]] = {}


def register_value_check(name: str, check: Callable[[str], str | None]) -> None:
    """The one check of a kind of value (a citizen ID, a credit code …): a form field naming
    it in its custom properties (``"properties": {"check": name}``) is checked by it on every
    form and door; ``check(value)`` returns the message of what is wrong, or None."""
    _value_checks[name] = check


def value_check(name: str) -> Callable[[str], str | None] | None:
    return _value_checks.get(name)


_data_maskers: list[Callable[[dict], dict]] = []


def register_data_masker(masker: Callable[[dict], dict]) -> None:
    """How a case's data is shown to people and API clients (e.g. personal numbers masked);
    the stored variables and the audit chain keep the values as they are."""
    if masker not in _data_maskers:
        _data_maskers.append(masker)


def shown_data(data: dict) -> dict:
    for masker in _data_maskers:
        data = masker(data)
    return data


_task_data: dict[str, Callable] = {}


def register_task_data(form_key: str, provider: Callable) -> None:
    """``provider(task) -> dict``: what a step's form offers, read when the page opens (the
    units or institutions to choose from, say), merged into the form's data."""
    _task_data[form_key] = provider


def task_data(task) -> dict:
    provider = _task_data.get(task.form_key or "")
    return provider(task) if provider else {}


_case_summaries: dict[str, Callable] = {}


def register_case_summary(process_key: str, summary: Callable) -> None:
    """``summary(instance) -> list[(label, value)]``: what the case is about, shown at the top
    of each of its task pages (personal numbers masked)."""
    _case_summaries[process_key] = summary


def case_summary(instance) -> list[tuple[str, str]]:
    summary = _case_summaries.get(instance.definition.key)
    return list(summary(instance)) if summary else []
