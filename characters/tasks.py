"""Thin Celery wrappers: each takes ids and calls one service."""

from celery import shared_task

from characters import services
from common.jobs import DATABASE_RETRIES, run_retrying_on_database_errors


# As headshots.run: a lost database connection runs the version again, it is not failed.
@shared_task(bind=True, name="characters.run", acks_late=True, max_retries=DATABASE_RETRIES)
def version_run_task(self, version_id: int) -> str | None:
    version = run_retrying_on_database_errors(
        self, lambda: services.version_run(version_id=version_id)
    )
    return version.status if version else None


@shared_task(name="characters.reconcile")
def version_reconcile_task() -> dict:
    return services.version_reconcile()
