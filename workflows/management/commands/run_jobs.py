"""The embedded job runner: no broker, just this process polling the Job and Timer tables."""

import time

from django.core.management.base import BaseCommand

from workflows import conf
from workflows.audit_origin import audit_origin
from workflows.services import deadlines, jobs, notifications, timers, verification


class Command(BaseCommand):
    help = "Run due jobs, timers, reminders and notifications in-process (the embedded default)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one sweep, then exit")
        parser.add_argument(
            "--interval", type=float, default=None, help="seconds between sweeps (default 5)"
        )

    def handle(self, *args, once=False, interval=None, **options):
        interval = interval or min(5.0, conf.get("SWEEP_INTERVAL_SECONDS"))
        while True:
            with audit_origin("job"):
                summary = self.sweep()
            if any(summary.values()):
                self.stdout.write(", ".join(f"{k} {v}" for k, v in summary.items()))
            if once:
                return
            time.sleep(interval)

    @staticmethod
    def sweep() -> dict:
        fired = timers.timers_fire_due()
        ran = [jobs.job_run(job_id=job_id) for job_id in jobs.jobs_sweep()]
        reminded, escalated = deadlines.deadlines_sweep()
        sent = notifications.notifications_send_pending()
        verified = 0
        if verification.audit_verification_due():
            verified = verification.audit_verify_scheduled().events_checked
        return {
            "timers": fired,
            "jobs": ran.count("done"),
            "failed": ran.count("failed"),
            "reminded": reminded,
            "escalated": escalated,
            "sent": sent,
            "events verified": verified,
        }
