"""Thin Celery wrappers: each takes ids and calls one service."""

from celery import shared_task
from django.db import InterfaceError, OperationalError, close_old_connections

from headshots import services

# A database restart or failover kills the worker's connection mid-job (issue 8, Faults).
# The run then raises OperationalError/InterfaceError even while recording the failure, its
# message is acked, and the job would sit in `processing` with its credits held until the
# reconciler's timeout. headshot_run resumes from the images already delivered and _finish
# settles once, so the task runs again on a fresh connection instead; if the database stays
# away longer than the backoff (about a minute in all), the reconciler still takes over.
DATABASE_RETRIES = 6


@shared_task(bind=True, name="headshots.run", acks_late=True, max_retries=DATABASE_RETRIES)
def headshot_run_task(self, generation_id: int) -> str | None:
    try:
        generation = services.headshot_run(generation_id=generation_id)
    except (OperationalError, InterfaceError) as error:
        close_old_connections()  # drops the dead connection even if CELERY_DB_REUSE_MAX is set
        raise self.retry(exc=error, countdown=min(2**self.request.retries, 30)) from error
    return generation.status if generation else None


@shared_task(name="headshots.reconcile")
def headshot_reconcile_task() -> dict:
    return services.headshot_reconcile()


@shared_task(name="headshots.cleanup_originals")
def headshot_cleanup_task() -> int:
    return services.headshot_cleanup_originals()
