"""Last year's medication-subsidy cycle in the demo county, so this year's can be run."""

from django.core.management.base import BaseCommand, CommandError

from processes.medication.demo import demo_medication_load
from workflows.exceptions import WorkflowError


class Command(BaseCommand):
    help = "Load last year's closed medication-subsidy cycle (run after load_demo). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="this year's cycle (default: the current)")

    def handle(self, *args, year=None, **options):
        try:
            summary = demo_medication_load(year=year)
        except WorkflowError as exc:
            raise CommandError(f"{exc.message} (run load_demo first)") from None
        verb = "loaded" if summary.created else "already there"
        self.stdout.write(
            f"Medication subsidy {summary.year} {verb}: {summary.recipients} paid recipients; "
            f"{len(summary.newly_eligible)} persons are newly eligible this year. County staff "
            "start this year's cycle under 发起业务 (start a case)."
        )
        self.stdout.write("Township officers (password as for the other demo logins):")
        for username, township in summary.officers:
            self.stdout.write(f"  {username:<15} {township}")
