from celery import shared_task


@shared_task(name="common.ping")
def ping(value: int) -> int:
    """Proves the broker and a worker are alive end to end (`make run`, tests)."""
    return value + 1
