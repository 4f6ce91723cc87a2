"""Jobs waiting to run: handing them to the configured runner once the transaction commits, and
giving failed ones another set of attempts."""

from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction
from django.utils import timezone

from .. import conf
from ..models import Job, JobState

logger = logging.getLogger(__name__)


def dispatch_after_commit(job_ids: list[int]) -> None:
    """Ask the configured dispatcher to run these jobs once the current transaction commits."""
    mode = conf.get("JOB_DISPATCH")
    if mode == "celery":
        transaction.on_commit(lambda: _send_to_celery(job_ids))
    elif mode == "immediate":
        transaction.on_commit(lambda: _run_in_process(job_ids))
    # "poll": the embedded runner (manage.py run_jobs) finds them on its next sweep.


# The runner is reached by its task name, as a worker reaches it: running a job persists a step,
# which queues jobs, so importing the runner here would tie the two in a circle.
RUN_JOB_TASK = "workflows.run_job"


def _run_in_process(job_ids: list[int]) -> None:
    task = current_app.tasks[RUN_JOB_TASK]
    for job_id in job_ids:
        task.apply(args=(job_id,))


def _send_to_celery(job_ids: list[int]) -> None:
    for job_id in job_ids:
        try:
            current_app.send_task(RUN_JOB_TASK, args=(job_id,))
        except Exception:  # noqa: BLE001 - broker down: the rows stay pending for the sweep
            # Stop at the first failure: each further try would hold this request up as well.
            logger.warning("could not hand jobs %s to the broker; the sweep will run them", job_ids)
            return


def job_retry_for_instance(*, instance_id: int) -> list[int]:
    """Give an instance's failed jobs a fresh set of attempts (part of resolving an incident)."""
    ids = list(
        Job.objects.filter(instance_id=instance_id, state=JobState.FAILED).values_list(
            "pk", flat=True
        )
    )
    Job.objects.filter(pk__in=ids).update(
        state=JobState.PENDING, attempts=0, run_after=timezone.now(), finished_at=None
    )
    if ids:
        dispatch_after_commit(ids)
    return ids
