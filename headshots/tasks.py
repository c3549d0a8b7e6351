"""Thin Celery wrappers: each takes ids and calls one service."""

from celery import shared_task

from headshots import services


@shared_task(name="headshots.run", acks_late=True)
def headshot_run_task(generation_id: int) -> str | None:
    generation = services.headshot_run(generation_id=generation_id)
    return generation.status if generation else None


@shared_task(name="headshots.reconcile")
def headshot_reconcile_task() -> dict:
    return services.headshot_reconcile()


@shared_task(name="headshots.cleanup_originals")
def headshot_cleanup_task() -> int:
    return services.headshot_cleanup_originals()
