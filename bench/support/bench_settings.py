"""The app's own settings plus the floor views, for the API load benchmark.

Nothing here makes the app cheaper than in production: bench/api_load.py runs gunicorn
with the production shape from the environment (DEBUG off, Redis cache, PostgreSQL,
JSON renderer only, the real middleware and throttles). Only the floor URLs and the Celery
queue name differ: submits go to a queue no worker reads, which the benchmark deletes
afterwards. (The cache's own key prefix comes in CACHE_URL, from loadkit.server_env.)
"""

import os

from config.settings import *  # noqa: F403

ROOT_URLCONF = "floor_urls"
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("BENCH_CELERY_QUEUE", "celery")
