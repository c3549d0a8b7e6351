"""Thin Celery wrappers: each takes ids and calls one service."""

from celery import shared_task

from common.jobs import DATABASE_RETRIES, run_retrying_on_database_errors
from headshots import services


# acks_late + the retry: a database restart or failover mid-job (issue 8, Faults) runs the
# job again on a fresh connection instead of leaving it `processing` with credits held.
@shared_task(bind=True, name="headshots.run", acks_late=True, max_retries=DATABASE_RETRIES)
def headshot_run_task(self, generation_id: int) -> str | None:
    generation = run_retrying_on_database_errors(
        self, lambda: services.headshot_run(generation_id=generation_id)
    )
    return generation.status if generation else None


@shared_task(name="headshots.reconcile")
def headshot_reconcile_task() -> dict:
    return services.headshot_reconcile()


@shared_task(name="headshots.cleanup_originals")
def headshot_cleanup_task() -> int:
    return services.headshot_cleanup_originals()
