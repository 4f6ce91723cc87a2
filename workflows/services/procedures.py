"""Who may change a procedure: its process owners, by django-guardian object permission.

A procedure (all versions of one BPMN process id) carries the object permission
``workflows.deploy_procedure``. Deploying a version, saving its draft and moving its cases onto
another version need the process-owner role (``DEPLOYER_ROLE``) *and* that permission, held by
the user or by the role group of a role they hold (``role:<code>``, as for starting):

* a procedure a process owner creates in the modeler (or deploys first) is theirs alone; they or
  an operator can share it (``procedure_share``);
* a procedure installed from ``processes/bpmn/`` by the system belongs to every process owner
  (the permission is given to the group ``role:<DEPLOYER_ROLE>``), until an operator narrows it
  in the admin.

Superusers and the system (``user=None``) may always deploy.
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext as _
from guardian.core import ObjectPermissionChecker
from guardian.models import GroupObjectPermission
from guardian.shortcuts import assign_perm, get_users_with_perms

from .. import conf
from ..exceptions import NotAllowed
from ..models import Procedure
from ..people import person_name
from .access import grants_for, user_has_role
from .starting import ROLE_GROUP_PREFIX

DEPLOY_PERMISSION = "deploy_procedure"


def procedure_ensure(*, key: str, name: str, owner=None) -> Procedure:
    """The procedure of ``key``, created on first sight and given to its first owner."""
    procedure, created = Procedure.objects.get_or_create(key=key, defaults={"name": name})
    if not created:
        if name and procedure.name != name:
            Procedure.objects.filter(pk=procedure.pk).update(name=name)
            procedure.name = name
        return procedure
    if owner is None:
        group, _ = Group.objects.get_or_create(name=ROLE_GROUP_PREFIX + conf.get("DEPLOYER_ROLE"))
        assign_perm(DEPLOY_PERMISSION, group, procedure)
    elif not owner.is_superuser:
        assign_perm(DEPLOY_PERMISSION, owner, procedure)
    return procedure


def is_process_owner(user) -> bool:
    return user is not None and user_has_role(user, conf.get("DEPLOYER_ROLE"))


def can_change_procedure(user, procedure: Procedure | None) -> bool:
    """Whether ``user`` may deploy, edit the draft of, and migrate cases of ``procedure``
    (None: a procedure that does not exist yet — any process owner may create one)."""
    if user is None:
        return True
    if not is_process_owner(user):
        return False
    if user.is_superuser or procedure is None:
        return True
    if ObjectPermissionChecker(user).has_perm(DEPLOY_PERMISSION, procedure):
        return True
    role_groups = {ROLE_GROUP_PREFIX + grant.role for grant in grants_for(user)}
    return GroupObjectPermission.objects.filter(
        content_type=ContentType.objects.get_for_model(Procedure),
        object_pk=str(procedure.pk),
        permission__codename=DEPLOY_PERMISSION,
        group__name__in=role_groups,
    ).exists()


def require_change_procedure(user, procedure: Procedure | None) -> None:
    if not is_process_owner(user) and user is not None:
        raise NotAllowed(_("Only process owners may change procedures."))
    if not can_change_procedure(user, procedure):
        raise NotAllowed(
            _(
                "You are not an owner of the procedure “%(procedure)s”: ask one of its owners "
                "(%(owners)s) to share it."
            )
            % {
                "procedure": procedure.name or procedure.key,
                "owners": "、".join(procedure_owner_names(procedure)) or _("an administrator"),
            }
        )


def procedure_owner_names(procedure: Procedure) -> list[str]:
    users = get_users_with_perms(procedure, only_with_perms_in=[DEPLOY_PERMISSION])
    names = sorted(u.get_username() for u in users)
    groups = GroupObjectPermission.objects.filter(
        content_type=ContentType.objects.get_for_model(Procedure),
        object_pk=str(procedure.pk),
        permission__codename=DEPLOY_PERMISSION,
    ).values_list("group__name", flat=True)
    return names + sorted(groups)


def procedure_share(*, procedure: Procedure, user, with_user) -> None:
    """Make ``with_user`` (a process owner) an owner of ``procedure`` too."""
    require_change_procedure(user, procedure)
    if not is_process_owner(with_user):
        raise NotAllowed(_("%(who)s is not a process owner.") % {"who": person_name(with_user)})
    assign_perm(DEPLOY_PERMISSION, with_user, procedure)
