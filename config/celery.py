"""The Celery app (`celery -A config worker`)."""

import logging
import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


@worker_process_init.connect
def warm_render_models(**kwargs) -> None:
    """Each worker process builds the render's models (faces, cut-out, FaceNet) as it
    starts, not in its first render. A failure is logged; the first render builds them."""
    try:
        from generation.warmup import render_models_warm

        render_models_warm()
    except Exception:
        logger.exception("Render models were not built at start; the first render will.")
