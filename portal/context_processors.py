"""What the portal's frame needs on every page (evaluated only when a template reads it)."""

from django.utils.functional import SimpleLazyObject

from workflows.services.access import can_audit

from .navigation import menu_for


def nav(request):
    user = getattr(request, "user", None)
    return {
        "nav_items": SimpleLazyObject(lambda: menu_for(user)),
        # The audit area (search, replay, exports) is in the menu, and a case page links its
        # replay, only for those it is for.
        "nav_is_auditor": SimpleLazyObject(lambda: can_audit(user)),
    }
