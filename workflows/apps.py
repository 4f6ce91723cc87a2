from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Workflows")

    def ready(self) -> None:
        from . import (
            checks,  # noqa: F401 - registers the system checks
            expressions,
            limits,
            tasks,  # noqa: F401 - registers the Celery tasks, which the job queue calls by name
        )
        from .extensions import load_extension_modules

        expressions.install()
        limits.install()
        load_extension_modules()
