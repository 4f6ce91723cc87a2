from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    """Who and where: org units, staff memberships, persons, disability certificates."""

    name = "registry"
    verbose_name = _("registry")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
        from .value_checks import register_value_checks

        register_value_checks()
