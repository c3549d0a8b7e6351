"""Thin Celery wrappers around billing services."""

from celery import shared_task

from billing import services


# Low-credit e-mails: each run tells the admins of teams that have newly run low.
@shared_task(name="billing.low_credit_notices_send")
def low_credit_notices_send_task() -> list[int]:
    return services.low_credit_notices_send()
