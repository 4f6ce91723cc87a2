"""The main menu, per person: each role sees what it uses, and nothing it cannot use.

A procedure's own pages are in the menu of the roles that work on its diagram (its candidate
groups, lanes and start roles), so a process owner who gives a step to a new role gives that
role the menu entry too. Process owners see every entry; auditors their own area."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from workflows import conf
from workflows.selectors.diagrams import procedure_roles
from workflows.services.access import can_audit, grants_for, user_has_role
from workflows.services.starting import startable_definitions


@dataclass(frozen=True)
class MenuItem:
    url: str
    label: str | Promise
    element_id: str


# A procedure's pages: (url name, label, the procedures whose roles get the entry).
PROCEDURE_PAGES = (
    ("portal:petitions", _("Petitions"), ("petition_first_receiver",)),
    ("portal:medication-cycles", _("Medication subsidy"), ("medication_subsidy_cycle",)),
    (
        "portal:device-applications",
        _("Assistive devices"),
        ("assistive_device_fitting", "assistive_device_settlement"),
    ),
)


def _working_roles(user) -> set[str]:
    """The roles the user holds that do casework (auditing is not casework)."""
    return {g.role for g in grants_for(user)} - set(conf.get("AUDIT_ONLY_ROLES"))


def menu_for(user) -> list[MenuItem]:
    if user is None or not user.is_authenticated:
        return []
    owner = user_has_role(user, conf.get("DEPLOYER_ROLE"))
    working = _working_roles(user) or ({"*"} if user.is_superuser else set())
    items: list[MenuItem] = []

    def add(name: str, label, element_id: str) -> None:
        items.append(MenuItem(reverse(name), label, element_id))

    if working:
        add("portal:home", _("Inbox"), "nav-inbox")
        if startable_definitions(user):
            add("portal:start", _("Start a case"), "nav-start")
        add("portal:cases", _("Cases"), "nav-cases")
    for name, label, keys in PROCEDURE_PAGES:
        if owner or user.is_superuser or working & procedure_roles(keys):
            add(name, label, "nav-" + name.split(":")[1])
    if owner or can_audit(user):
        add("portal:modeler-list", _("Procedures"), "nav-procedures")
    if can_audit(user):
        add("portal:audit", _("Audit"), "nav-audit")
    if user_has_role(user, conf.get("OPERATOR_ROLE")):
        add("portal:ops", _("Operations"), "nav-ops")
    return items


def landing_page(user) -> str | None:
    """Where someone with no casework lands instead of an inbox that can never fill."""
    if user.is_authenticated and not _working_roles(user) and not user.is_superuser:
        return reverse("portal:audit") if can_audit(user) else None
    return None
