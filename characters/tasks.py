"""Thin Celery wrappers: each takes ids and calls one service."""

from celery import shared_task

from characters import services


@shared_task(name="characters.run", acks_late=True)
def version_run_task(version_id: int) -> str | None:
    version = services.version_run(version_id=version_id)
    return version.status if version else None


@shared_task(name="characters.reconcile")
def version_reconcile_task() -> dict:
    return services.version_reconcile()
