"""The demo county, its persons and staff of every role, with the logins printed. Idempotent."""

from django.conf import settings
from django.core.management.base import BaseCommand

from registry.demo import DEMO_PASSWORD, DEMO_STAFF, demo_load, staff_unit
from registry.models import OrgUnit


class Command(BaseCommand):
    help = "Load the demo county (org units, ~6,000 persons, certificates) and demo staff."

    def add_arguments(self, parser):
        parser.add_argument("--persons", type=int, default=6000, help="persons to create")

    def handle(self, *args, persons, **options):
        summary = demo_load(persons=persons)
        verb = "loaded" if summary.created else "already there"
        self.stdout.write(
            f"Demo county {verb}: {summary.units} org units, {summary.persons} persons, "
            f"{summary.certificates} certificates"
        )
        roles = settings.WORKFLOWS["ROLES"]
        names = dict(OrgUnit.objects.values_list("code", "name"))
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD})")
        for username, full_name, role, where in DEMO_STAFF:
            code = staff_unit(where)
            place = names.get(code, code) if code else "全县"
            self.stdout.write(f"  {username:<15} {roles[role]:<10} {place:<16} {full_name}")
