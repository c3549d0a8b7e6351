"""Every periodic job the product relies on is scheduled, under a task a worker knows."""

import importlib.util

from django.apps import apps
from django.conf import settings

from config.celery import app


def test_every_scheduled_task_is_registered() -> None:
    for config in apps.get_app_configs():  # what the worker's autodiscovery imports
        if importlib.util.find_spec(f"{config.name}.tasks") is not None:
            importlib.import_module(f"{config.name}.tasks")
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled <= set(app.tasks), scheduled - set(app.tasks)


def test_the_jobs_that_keep_data_honest_are_scheduled() -> None:
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "headshots.reconcile",
        "headshots.cleanup_originals",
        "characters.reconcile",
        "staff.metrics_rollups_refresh",
        "billing.low_credit_notices_send",
    } <= scheduled
