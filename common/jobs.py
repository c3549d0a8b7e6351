"""The part of a background job's life both studios share: the sweep for silent jobs.

A job row (a headshot generation, a character version) has `status`, `updated_at` and a
JSON `metadata`. A worker that dies mid-job leaves it running with an old `updated_at`;
the sweep puts it back in the queue (at most `max_requeues` times), then hands it to the
app's own `fail`, which settles its credits the way that app settles a failed job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import models, transaction
from django.utils import timezone


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
