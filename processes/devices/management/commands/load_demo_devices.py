"""The demo catalogue of basic assistive devices and the service agreements with the demo
county's institutions (after ``load_demo``), and a second assessor for the demo. Idempotent."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from processes.devices.demo import demo_devices_load
from registry.demo import DEMO_PASSWORD, institution_codes
from registry.models import OrgUnit
from registry.services.memberships import membership_grant

# username, full name, role, the demo institution it works for (index in registry.demo)
STAFF = [("assessor_b", "县第一人民医院评定门诊 钱红", "assessor", 2)]


class Command(BaseCommand):
    help = "Load the demo device catalogue and service agreements (run load_demo first)."

    def handle(self, *args, **options):
        codes = institution_codes()
        if not OrgUnit.objects.filter(code__in=codes).exists():
            raise CommandError("the demo county is not loaded: run `manage.py load_demo` first")
        summary = demo_devices_load()
        users = get_user_model().objects
        for username, full_name, role, index in STAFF:
            user, created = users.get_or_create(username=username)
            if created:
                user.last_name = full_name
                user.set_password(DEMO_PASSWORD)
                user.save()
            membership_grant(user=user, role=role, org_unit=OrgUnit.objects.get(code=codes[index]))
        self.stdout.write(
            f"Device catalogue: {summary.devices} items, {summary.agreements} service agreements "
            f"({summary.created} added)"
        )
