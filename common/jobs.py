"""The part of a background job's life both studios share: the sweep for silent jobs.

A job row (a headshot generation, a character version) has `status`, `updated_at` and a
JSON `metadata`. A worker that dies mid-job leaves it running with an old `updated_at`;
the sweep puts it back in the queue (at most `max_requeues` times), then hands it to the
app's own `fail`, which settles its credits the way that app settles a failed job.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import InterfaceError, OperationalError, close_old_connections, models, transaction
from django.utils import timezone

# The database went away (a restart, a failover): not the job's fault. A run lets these
# through instead of settling the job as failed, and its task tries again.
DATABASE_ERRORS = (OperationalError, InterfaceError)
# Tries of a run task after a database error, 1, 2, 4 ... 30 s apart (about a minute in
# all); past that the sweep below takes over.
DATABASE_RETRIES = 6


def run_retrying_on_database_errors(task, run: Callable[[], Any]) -> Any:
    """Call `run`; on a lost database connection, retry `task` later on a fresh one.

    `task` is a bound Celery task with `max_retries=DATABASE_RETRIES`. The runs are
    idempotent (they resume after what was delivered and settle once), so a retry is safe.
    """
    try:
        return run()
    except DATABASE_ERRORS as error:
        close_old_connections()  # drops the dead connection even if CELERY_DB_REUSE_MAX is set
        raise task.retry(exc=error, countdown=min(2**task.request.retries, 30)) from error


def jobs_reconcile(
    *,
    model: type[models.Model],
    running: Iterable[str],
    queued: str,
    timeout: timedelta,
    enqueue: Callable[[int], None],
    fail: Callable[[Any], None],
    max_requeues: int = 2,
    now: datetime | None = None,
) -> dict[str, int]:
    """Requeue or fail every job silent past `timeout`; returns the counts of each."""
    running = list(running)
    cutoff = (now or timezone.now()) - timeout
    stuck = model.objects.filter(status__in=running, updated_at__lt=cutoff)
    counts = {"requeued": 0, "failed": 0}
    for pk in list(stuck.values_list("pk", flat=True)):
        with transaction.atomic():
            # Read again under a lock: the worker may have moved on since the list was taken.
            job = stuck.select_for_update().filter(pk=pk).first()
            if job is None:
                continue
            requeues = int(job.metadata.get("requeues", 0))
            if requeues < max_requeues:
                job.metadata["requeues"] = requeues + 1
                job.status = queued
                job.save(update_fields=["metadata", "status", "updated_at"])
                transaction.on_commit(partial(enqueue, pk))
                counts["requeued"] += 1
                continue
        fail(job)
        counts["failed"] += 1
    return counts


def job_deleted_release_hold(*, hold_key: str) -> None:
    """A job row deleted while running (in admin, or with its project or team) takes its
    hold with it unless released: the sweep above only sees rows that still exist."""
    from common.errors import NotFound
    from credits import services as credits_services

    def release() -> None:
        with contextlib.suppress(NotFound):  # it never held anything
            credits_services.credits_release(
                hold_key=hold_key, key=f"{hold_key}:deleted", memo="Returned: the job was deleted"
            )

    transaction.on_commit(release)


def job_failure_reason(
    failure: Exception | None, *, explained: tuple[type[Exception], ...], fallback: str
) -> tuple[str, str]:
    """A code and a sentence for the member about a failed job. Errors of the `explained`
    kinds carry a code and a message written for members; the internals of anything
    else stay in the log."""
    if isinstance(failure, explained):
        return getattr(failure, "code", "") or "render_failed", failure.message.rstrip(".") + "."
    return "render_failed", fallback
