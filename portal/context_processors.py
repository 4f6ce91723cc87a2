"""What the portal's frame needs on every page (evaluated only when a template reads it)."""

from django.utils.functional import SimpleLazyObject

from workflows import conf
from workflows.services.access import reads_everything, user_has_role


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
        # Auditors (and whoever reads every case) get the audit search in the menu; anyone may
        # open the replay of a case they can read.
        "nav_is_auditor": SimpleLazyObject(
            lambda: bool(user and user.is_authenticated and reads_everything(user))
        ),
    }
