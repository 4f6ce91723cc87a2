"""What the portal's frame needs on every page (evaluated only when a template reads it)."""

from django.utils.functional import SimpleLazyObject

from workflows import conf
from workflows.services.access import user_has_role


def nav(request):
    user = getattr(request, "user", None)
    return {
        "nav_is_operator": SimpleLazyObject(
            lambda: bool(
                user and user.is_authenticated and user_has_role(user, conf.get("OPERATOR_ROLE"))
            )
        )
    }
