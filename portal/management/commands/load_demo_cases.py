"""Demo cases of certificate renewal (残疾人证换领), so a fresh install's inbox has work in it.

Run after ``deploy_processes`` and ``load_demo`` (the demo staff). Idempotent: cases whose
business key already exists are not started again. Applicants come from the registry's demo
persons when the registry is installed and has some; otherwise from a short built-in list.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from workflows.models import HumanTask, HumanTaskState, ProcessDefinition, ProcessInstance
from workflows.scopes import resolver
from workflows.services.instances import instance_start
from workflows.services.tasks import task_claim, task_complete

from ...lookups import registry_installed

KEY = "certificate_renewal"
FALLBACK_APPLICANTS = [  # valid IDs and certificate numbers: the start checks them
    ("王秀英", "330102195003150029", "33010219500315002914"),
    ("李建国", "330102196507210018", "33010219650721001834"),
    ("张桂兰", "330102197211080028", "33010219721108002841"),
    ("刘志强", "330102198404300036", "33010219840430003674"),
    ("陈玉梅", "330102199109120045", "33010219910912004562"),
    ("杨德明", "330102195812250054", "33010219581225005442"),
]
REASONS = ["expired", "damaged", "info_changed"]


def _registry_applicants(scope: str, count: int) -> list[tuple[str, str, str]]:
    """(name, citizen ID, certificate number) of persons living in ``scope``'s area."""
    if not registry_installed():
        return []
    from django.apps import apps

    try:
        certificate = apps.get_model("registry", "Certificate")
    except LookupError:
        return []
    prefix = scope[:9]
    rows = (
        certificate.objects.filter(person__household_unit__code__startswith=prefix)
        .select_related("person")
        .order_by("pk")[:count]
    )
    return [(c.person.name, c.person.citizen_id, c.number) for c in rows]


class Command(BaseCommand):
    help = "Start a few certificate-renewal cases for the demo township staff."

    def add_arguments(self, parser):
        parser.add_argument("--per-township", type=int, default=4)

    def handle(self, *args, per_township: int, **options):
        if not ProcessDefinition.objects.filter(key=KEY).exists():
            raise CommandError(f"deploy the process pack first ('{KEY}' is not deployed)")
        users = {u.username: u for u in get_user_model().objects.filter(username__startswith="t")}
        started = 0
        for username in ("township_a", "township_b"):
            user = users.get(username)
            if user is None:
                self.stderr.write(f"no demo user '{username}': run load_demo first")
                continue
            scope = resolver().home_scope(user)
            applicants = _registry_applicants(scope, per_township) or FALLBACK_APPLICANTS
            for index, (name, citizen_id, number) in enumerate(applicants[:per_township]):
                started += self._start(user, scope, index, name, citizen_id, number)
        self._advance_one(users.get("township_a"))
        self.stdout.write(f"demo cases: {started} started ({KEY})")

    def _start(self, user, scope: str, index: int, name: str, citizen_id: str, number: str):
        business_key = f"HZ-{scope[6:9]}-{index + 1:03d}"
        if ProcessInstance.objects.filter(business_key=business_key).exists():
            return 0
        instance_start(
            process_key=KEY,
            user=user,
            business_key=business_key,
            org_unit=scope,
            variables={
                "applicant_name": name,
                "applicant_id": citizen_id,
                "certificate_no": number,
                "renewal_reason": REASONS[index % len(REASONS)],
                "contact_phone": f"1380571{index:04d}",
            },
        )
        return 1

    def _advance_one(self, user) -> None:
        """Take the first case of township A on to the county review (so every lane has work)."""
        checks = HumanTask.objects.filter(process_key=KEY, element_id="township_check")
        if user is None or checks.filter(state=HumanTaskState.COMPLETED).exists():
            return
        task = checks.filter(state=HumanTaskState.OPEN, instance__started_by=user).first()
        if task is None:
            return
        task_claim(task_id=task.pk, user=user)
        task_complete(
            task_id=task.pk,
            user=user,
            data={
                "household_verified": True,
                "contact_phone": "13805710000",
                "household_size": 3,
                "township_decision": "approve",
                "township_opinion": "原证有效期满，户籍与居住情况属实，同意换领。",
            },
        )
