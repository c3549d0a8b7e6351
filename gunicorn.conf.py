"""gunicorn's settings for the web process (gunicorn reads ./gunicorn.conf.py; flags given
on the command line win, as bench/api_load.py's do).

gthread with four threads a worker: an API call spends part of its time waiting on Redis and
PostgreSQL, which other threads use (measured in docs/performance.md), and idle keep-alive
connections wait in the worker's poller instead of holding a worker, as a sync worker does.
"""

worker_class = "gthread"
threads = 4


def post_worker_init(worker) -> None:
    """Build the face models when a worker starts, not in its first submit (~0.4 s); the
    worker takes no request before this returns. A failure is logged and the worker
    serves anyway: the first submit builds them then."""
    try:
        from generation.warmup import submit_models_warm

        submit_models_warm()
    except Exception:
        worker.log.exception("Face models were not built at start; the first submit will.")
