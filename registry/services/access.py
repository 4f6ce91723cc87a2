"""Who may read and change which persons and certificates: one rule for every door.

A user's grants (the scope resolver's, one query) reach a person when a grant's path is a prefix
of the person's household unit's path. Roles in ``READ_ALL_ROLES`` held everywhere read all and
change nothing; institutions' roles (``ASSIGNED_ROLES``) see only persons assigned to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q

from workflows import conf as workflows_conf
from workflows.exceptions import NotAllowed
from workflows.scopes import Grant
from workflows.services.access import grants_for

from .. import conf
from ..models import InstitutionAssignment, Person


@dataclass
class Reach:
    """What one user's grants reach in the registry; build it once per request."""

    user: object
    grants: list[Grant] = field(default_factory=list)

    @property
    def is_superuser(self) -> bool:
        return bool(getattr(self.user, "is_superuser", False))

    @property
    def reads_everything(self) -> bool:
        read_all = set(workflows_conf.get("READ_ALL_ROLES"))
        return self.is_superuser or any(g.role in read_all and not g.path for g in self.grants)

    def paths(self, roles) -> list[str]:
        roles = set(roles)
        return sorted({g.path for g in self.grants if g.role in roles})

    def reaches(self, path: str, roles) -> bool:
        return self.is_superuser or any(path.startswith(p) for p in self.paths(roles))


def reach_for(user) -> Reach:
    if user is None or not user.is_authenticated:
        return Reach(user=user)
    return Reach(user=user, grants=grants_for(user))


def _assigned_to(paths: list[str]) -> Q:
    reach = Q(pk__in=[])
    for path in paths:
        reach |= Q(
            Exists(
                InstitutionAssignment.objects.filter(
                    person=OuterRef("pk"), ended_at__isnull=True, institution__path__startswith=path
                )
            )
        )
    return reach


def persons_reach_q(reach: Reach) -> Q | None:
    """A filter on Person for what the user may read; None means everything."""
    if reach.reads_everything:
        return None
    q = Q(pk__in=[])
    for path in reach.paths([*conf.get("READ_ROLES"), *conf.get("WRITE_ROLES")]):
        if not path:
            return None
        q |= Q(household_unit__path__startswith=path)
    return q | _assigned_to(reach.paths(conf.get("ASSIGNED_ROLES")))


def _assigned(reach: Reach, person: Person, roles) -> bool:
    paths = reach.paths(roles)
    return bool(paths) and Person.objects.filter(_assigned_to(paths), pk=person.pk).exists()


def can_read_person(reach: Reach, person: Person) -> bool:
    if reach.reads_everything:
        return True
    path = person.household_unit.path
    if reach.reaches(path, [*conf.get("READ_ROLES"), *conf.get("WRITE_ROLES")]):
        return True
    return _assigned(reach, person, conf.get("ASSIGNED_ROLES"))


def can_write_person(reach: Reach, person: Person) -> bool:
    return reach.reaches(person.household_unit.path, conf.get("WRITE_ROLES"))


def can_see_full_id(reach: Reach, person: Person) -> bool:
    roles = conf.get("FULL_ID_ROLES")
    if reach.is_superuser or reach.reaches(person.household_unit.path, roles):
        return True
    return _assigned(reach, person, [r for r in roles if r in conf.get("ASSIGNED_ROLES")])


def can_see_full_card(reach: Reach, person: Person) -> bool:
    return reach.reaches(person.household_unit.path, conf.get("FULL_CARD_ROLES"))


def require(allowed: bool, message: str) -> None:
    if not allowed:
        raise NotAllowed(message)
