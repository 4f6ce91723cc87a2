"""Petition pages: the petitions a user may see (petitioners masked), the supervisors' overdue
list, and the petitioner's requests for review and re-review, logged by staff."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from processes.petitions.models import Petition, PetitionState
from processes.petitions.selectors import (
    can_read_petition,
    is_supervisor,
    overdue_petitions,
    petitions_for_user,
)
from processes.petitions.services import petition_request_re_review, petition_request_review
from workflows.exceptions import NotFound, WorkflowError

from .common import flash_error, page_number, portal_setting, refused

_REQUESTS = {
    "review": (petition_request_review, PetitionState.REPLIED),
    "re-review": (petition_request_re_review, PetitionState.REVIEWED),
}


@login_required
def petition_list(request):
    user = request.user
    supervisor = is_supervisor(user)
    overdue = request.GET.get("show") == "overdue" and supervisor
    query = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    petitions = overdue_petitions() if overdue else petitions_for_user(user=user, search=query)
    page = Paginator(petitions.select_related("first_receiver"), portal_setting("PAGE_SIZE", 25))
    context = {
        "page": page.get_page(page_number(request)),
        "query": query,
        "overdue": overdue,
        "supervisor": supervisor,
        "now": timezone.now(),
        "review_state": PetitionState.REPLIED,
        "re_review_state": PetitionState.REVIEWED,
    }
    return render(request, "portal/petitions/list.html", context)


@login_required
@require_POST
def petition_request(request, pk: int, kind: str):
    petition = Petition.objects.filter(pk=pk).first()
    if petition is None or kind not in _REQUESTS or not can_read_petition(request.user, petition):
        return refused(request, NotFound(_("Not found.")), status=404)
    service, _state = _REQUESTS[kind]
    try:
        service(petition=petition, user=request.user)
    except WorkflowError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("The request was logged and the case continues."))
    return redirect("portal:petitions")
