"""Celery tasks (used when ``REGISTRY["IMPORT_RUNNER"] == "celery"``). They take ids only."""

from celery import shared_task


@shared_task(name="registry.import_run")
def import_run(batch_id: int, phase: str) -> None:
    from .services.imports import import_batch_run

    import_batch_run(batch_id=batch_id, phase=phase)
