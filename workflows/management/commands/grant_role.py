"""Give a user a role, everywhere or within one org unit and below."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from workflows.services.roles import role_grant


class Command(BaseCommand):
    help = "grant_role USERNAME ROLE [--org-unit CODE]"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("role")
        parser.add_argument("--org-unit", default="", help="org-unit code (default: everywhere)")

    def handle(self, *args, username, role, org_unit, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named '{username}'")
        try:
            role_grant(user=user, role=role, org_unit=org_unit, granted_by=None)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"{username} is now {role} {'in ' + org_unit if org_unit else 'everywhere'}"
        )
