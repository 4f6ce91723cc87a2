"""Portal views: parse the request, call a selector or service, render."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from workflows.selectors.inbox import inbox_for_user
from workflows.services.access import grants_for


@login_required
def home(request):
    tasks = Paginator(inbox_for_user(user=request.user), 25).get_page(request.GET.get("page"))
    return render(request, "portal/home.html", {"tasks": tasks, "grants": grants_for(request.user)})
