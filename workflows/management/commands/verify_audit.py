"""Check every audit hash chain; name the first broken event of each broken chain."""

from django.core.management.base import BaseCommand, CommandError

from workflows.services.audit import audit_verify, instance_stream


class Command(BaseCommand):
    help = "Verify the audit hash chains (all, or one instance's)."

    def add_arguments(self, parser):
        parser.add_argument("--instance", type=int, help="only this instance's chain")

    def handle(self, *args, instance=None, **options):
        streams = [instance_stream(instance)] if instance else None
        checked, breaks = audit_verify(streams=streams)
        for b in breaks:
            where = f"event #{b.event_id}" if b.event_id else "end of chain"
            self.stderr.write(f"BROKEN {b.stream} at sequence {b.sequence} ({where}): {b.message}")
        if breaks:
            raise CommandError(f"{len(breaks)} broken chain(s) among {checked} events")
        self.stdout.write(f"OK: {checked} events, every chain intact")
