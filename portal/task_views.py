"""Custom task screens: a procedure's own page for a task (a list review, say) instead of a
form-js form. Register a view under the task's form key::

    @task_view("medication_list_review", label="名单审核")
    def list_review(request, task):
        ...  # parse, call the procedure's services, render; return an HttpResponse

The portal's task page calls it for every task with that form key, after checking that the user
may work the task. Registering also tells the host the form key exists (deploys accept it).
"""

from __future__ import annotations

from collections.abc import Callable

from workflows import extensions

_views: dict[str, Callable] = {}


def task_view(form_key: str, *, label: str = ""):
    def register(view: Callable) -> Callable:
        _views[form_key] = view
        extensions.register_task_view(form_key, label)
        return view

    return register


def view_for(form_key: str) -> Callable | None:
    return _views.get(form_key) if form_key else None


def unregister(form_key: str) -> None:
    _views.pop(form_key, None)
    extensions._task_views.pop(form_key, None)
