"""Who may see a petition, and the lists built on that rule (confidential: not by scope)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user

from workflows.models import HumanTask, HumanTaskState
from workflows.scopes import resolver
from workflows.services.access import can_work_task, reads_everything, user_has_role

from . import conf
from .models import Petition, PetitionState


def is_supervisor(user, petition: Petition | None = None) -> bool:
    path = resolver().scope_path(petition.receiving_unit) if petition else None
    return user_has_role(user, conf.get("SUPERVISOR_ROLE"), scope_path=path)


def can_work_petition(user, petition: Petition) -> bool:
    return petition.first_receiver_id == user.pk or is_supervisor(user, petition)


def can_read_petition(user, petition: Petition) -> bool:
    """First receiver, the petition office, auditors, and a handling unit's staff while they
    hold an open task on it."""
    if reads_everything(user) or can_work_petition(user, petition):
        return True
    if user.has_perm("petitions.view_petition_case", petition):
        return True
    if petition.instance_id is None:
        return False
    open_tasks = HumanTask.objects.filter(
        instance_id=petition.instance_id, state=HumanTaskState.OPEN
    )
    return any(can_work_task(user, task) for task in open_tasks)


def can_read_petition_instance(user, instance) -> bool:
    petition = Petition.objects.filter(instance=instance).first()
    return petition is not None and can_read_petition(user, petition)


def visible_petition_instances(user):
    """The instance ids of the petitions the user may see (for case lists and search)."""
    return petitions_for_user(user=user).values("instance_id")


def petitions_for_user(*, user, search: str = "") -> QuerySet[Petition]:
    """Petitions the user may see (one query), newest first; ``search`` by number or subject."""
    petitions = Petition.objects.select_related("first_receiver").order_by("-received_at")
    if not (reads_everything(user) or is_supervisor(user)):
        granted = get_objects_for_user(
            user, "petitions.view_petition_case", klass=Petition, accept_global_perms=False
        )
        working = _instances_with_tasks_for(user)
        petitions = petitions.filter(
            Q(first_receiver=user) | Q(pk__in=granted.values("pk")) | Q(instance_id__in=working)
        )
    if search:
        petitions = petitions.filter(Q(number__icontains=search) | Q(subject__icontains=search))
    return petitions


def _instances_with_tasks_for(user):
    from workflows.selectors.inbox import inbox_for_user

    return inbox_for_user(user=user, process_key="petition_first_receiver").values("instance_id")


def final_petitions_like(id_number: str, subject: str) -> QuerySet[Petition]:
    """Closed-for-good petitions of the same petitioner on the same subject (不再受理)."""
    if not id_number:
        return Petition.objects.none()
    return Petition.objects.filter(
        final=True, petitioner_id_number=id_number.strip().upper(), subject=subject.strip()
    ).order_by("-closed_at")


def overdue_petitions(*, now=None) -> QuerySet[Petition]:
    """Open petitions past a statutory limit: acceptance or reply (for supervisors)."""
    now = now or timezone.now()
    return Petition.objects.filter(
        Q(state=PetitionState.REGISTERED, acceptance_due__lt=now)
        | Q(state=PetitionState.ACCEPTED, reply_due__lt=now)
    ).order_by("acceptance_due")


# The unit_report step's candidate groups: who at a handling unit does the work.
HANDLING_ROLES = ("township_staff", "county_staff")
HANDLING_UNIT_KINDS = ("county", "street", "town", "township")


def handling_units() -> list:
    """The units a petition can be handed to: the county and its townships and streets."""
    from registry.models import OrgUnit

    return list(
        OrgUnit.objects.filter(kind__in=HANDLING_UNIT_KINDS, is_active=True).order_by("code")
    )


def handling_unit_options(task=None) -> dict:
    """The handling units to pick from, each by its name; a unit with nobody in Fuzhu to do
    the work there says so."""
    from django.utils.translation import gettext

    from registry.selectors.staff import units_with_staff

    units = handling_units()
    staffed = units_with_staff([u.code for u in units], roles=HANDLING_ROLES)
    no_staff = gettext("(nobody from this unit uses Fuzhu yet)")
    return {
        "unit_options": [
            {"value": u.code, "label": u.name if u.code in staffed else f"{u.name}{no_staff}"}
            for u in units
        ]
    }


def petition_summary(instance) -> list[tuple[str, str]]:
    """What a petition's task pages show at the top: the petition itself."""
    from django.utils import formats, timezone
    from django.utils.translation import gettext

    from registry.masking import CITIZEN_ID, mask

    petition = Petition.objects.filter(instance=instance).first()
    if petition is None:
        return []

    def moment(value) -> str:
        return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT") if value else ""

    rows = [
        (gettext("Petition number"), petition.number),
        (gettext("Petitioner"), petition.petitioner_name),
        (gettext("Citizen ID"), mask(petition.petitioner_id_number, CITIZEN_ID)),
        (gettext("Received by"), petition.get_channel_display()),
        (gettext("Received at"), moment(petition.received_at)),
        (gettext("Matter"), petition.subject),
        (gettext("Demands and facts"), petition.content),
        (gettext("One-time notice given"), petition.notice),
        (gettext("State"), petition.get_state_display()),
        (gettext("Acceptance due"), moment(petition.acceptance_due)),
        (gettext("Reply due"), moment(petition.reply_due)),
    ]
    return [(label, value) for label, value in rows if value]
