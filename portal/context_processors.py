"""What the portal's frame needs on every page (evaluated only when a template reads it)."""

from django.utils.functional import SimpleLazyObject

from workflows import conf
from workflows.services.access import can_audit, user_has_role


def nav(request):
    user = getattr(request, "user", None)
    return {
        "nav_is_operator": SimpleLazyObject(
            lambda: bool(
                user and user.is_authenticated and user_has_role(user, conf.get("OPERATOR_ROLE"))
            )
        ),
        "nav_is_process_owner": SimpleLazyObject(
            lambda: bool(
                user and user.is_authenticated and user_has_role(user, conf.get("DEPLOYER_ROLE"))
            )
        ),
        # The audit area (search, replay, exports) is in the menu, and a case page links its
        # replay, only for those it is for.
        "nav_is_auditor": SimpleLazyObject(lambda: can_audit(user)),
    }
