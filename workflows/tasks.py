"""Celery tasks. They take ids, call one service, and return what happened."""

from celery import shared_task

from . import conf
from .audit_origin import audit_origin
from .services import deadlines, jobs, notifications, timers, verification


@shared_task(name="workflows.run_job", acks_late=True, reject_on_worker_lost=True)
def run_job(job_id: int) -> str:
    with audit_origin("job"):
        return jobs.job_run(job_id=job_id)


@shared_task(name="workflows.verify_audit_chains")
def verify_audit_chains() -> dict:
    """The scheduled check of every audit chain; the result is kept for auditors."""
    run = verification.audit_verify_scheduled()
    return {
        "events": run.events_checked,
        "breaks": len(run.breaks),
        "replayed": run.instances_replayed,
        "mismatches": len(run.replay_mismatches),
    }


@shared_task(name="workflows.sweep")
def sweep() -> dict:
    """The periodic safety net: due timers, jobs nobody ran, deadlines, the outbox."""
    with audit_origin("job"):
        fired = timers.timers_fire_due()
        pending = jobs.jobs_sweep(grace_seconds=conf.get("SWEEP_INTERVAL_SECONDS"))
        for job_id in pending:
            run_job.delay(job_id)
        reminded, escalated = deadlines.deadlines_sweep()
        sent = notifications.notifications_send_pending()
    return {
        "timers": fired,
        "jobs": len(pending),
        "reminded": reminded,
        "escalated": escalated,
        "sent": sent,
    }
