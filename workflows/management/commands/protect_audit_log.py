"""Withhold UPDATE, DELETE and TRUNCATE on the audit tables from the application's role.

Run once by the database owner after migrating, naming the role the web and worker processes
log in as (which should not own the tables)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection


class Command(BaseCommand):
    help = "Revoke UPDATE/DELETE/TRUNCATE on the audit log from ROLE (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("role", help="the application's database role")

    def handle(self, *args, role, **options):
        if connection.vendor != "postgresql":
            raise CommandError("only PostgreSQL has roles to protect the audit log from")
        quoted = connection.ops.quote_name(role)
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cursor.fetchone() is None:
                raise CommandError(f"there is no database role '{role}'")
            # Events: append and read only. Heads move forward with each append (UPDATE), but
            # are never deleted or truncated.
            cursor.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON workflows_auditevent FROM {quoted}")
            cursor.execute(f"GRANT SELECT, INSERT ON workflows_auditevent TO {quoted}")
            cursor.execute(f"REVOKE DELETE, TRUNCATE ON workflows_audithead FROM {quoted}")
        self.stdout.write(f"role {role}: the audit log is append-only for it")
