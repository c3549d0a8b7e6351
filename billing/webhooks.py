"""Stripe events we act on, hooked into dj-stripe's webhook processing. Thin on purpose.

dj-stripe verifies the signature, stores the Event (unique by Stripe's event id) and
calls these receivers inside the same database transaction. The receivers read the
session or charge back from Stripe rather than trusting the payload. So an Event row exists
exactly for the events we acted on: if a receiver raises, the Event is rolled back,
the WebhookEventTrigger keeps the traceback, Stripe gets a 500 and retries; a
redelivered event whose Event row exists is not dispatched again.
"""

from djstripe.event_handlers import djstripe_receiver

from billing import services
from billing.models import FulfilledVia
from common.errors import ApplicationError


class WebhookNotProcessed(RuntimeError):
    """The event was not acted on; answering 500 makes Stripe deliver it again later."""


@djstripe_receiver(["checkout.session.completed", "checkout.session.async_payment_succeeded"])
def checkout_session_paid(sender, event, **kwargs) -> None:
    session_id = event.data["object"]["id"]
    try:
        services.payment_reconcile(
            session_id=session_id, via=FulfilledVia.WEBHOOK, event_id=event.id
        )
    except ApplicationError as error:
        # Not a page's 4xx: Stripe (or our database) failed us; let Stripe retry.
        raise WebhookNotProcessed(f"{event.id} ({session_id}): {error.message}") from error


@djstripe_receiver("charge.refunded")
def charge_refunded(sender, event, **kwargs) -> None:
    charge_id = event.data["object"]["id"]
    try:
        services.payment_refund_reconcile(charge_id=charge_id, event_id=event.id)
    except ApplicationError as error:
        raise WebhookNotProcessed(f"{event.id} ({charge_id}): {error.message}") from error
