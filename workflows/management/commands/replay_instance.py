"""Re-execute an instance from its definition and recorded inputs; compare with what is stored."""

from django.core.management.base import BaseCommand, CommandError

from workflows.models import ProcessInstance
from workflows.services.replay import instance_replay


class Command(BaseCommand):
    help = "Replay an instance event by event and report whether it reproduces the stored state."

    def add_arguments(self, parser):
        parser.add_argument("instance_id", type=int)

    def handle(self, *args, instance_id, **options):
        instance = (
            ProcessInstance.objects.select_related("definition").filter(pk=instance_id).first()
        )
        if instance is None:
            raise CommandError(f"process instance {instance_id} does not exist")
        report = instance_replay(instance=instance)
        for step in report.steps:
            mark = "ok  " if step.matches else "DIFF"
            detail = f"  {step.message}" if step.message else ""
            self.stdout.write(f"{mark} #{step.sequence} {step.kind} {step.element}{detail}")
        for difference in report.differences:
            self.stdout.write(f"DIFF final: {difference}")
        if not report.matches:
            raise CommandError(
                f"instance {instance_id}: the replay does not match the stored state"
            )
        self.stdout.write(f"instance {instance_id}: the replay matches the stored state")
