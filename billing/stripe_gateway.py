"""The only module that talks to Stripe. Every call goes through the stripe SDK.

The SDK sends requests to `stripe.api_base`, which dj-stripe sets from the
`STRIPE_API_HOST` setting when it loads (tests point it at a local fake server). The
secret key is dj-stripe's (`STRIPE_TEST_SECRET_KEY` / `STRIPE_LIVE_SECRET_KEY` with
`STRIPE_LIVE_MODE`), read at call time so a missing key is reported, never crashed on.
"""

from __future__ import annotations

import logging
from typing import Any

import stripe
from djstripe.settings import djstripe_settings

from common.errors import ApplicationError, NotFound

logger = logging.getLogger(__name__)

# Checkout needs the charge to show a receipt link; one expand saves a second call.
SESSION_EXPAND = ["payment_intent.latest_charge"]


class StripeNotConfigured(ApplicationError):
    status = 503
    code = "stripe_not_configured"


def stripe_missing_setting() -> str | None:
    """The setting an operator must set before anyone can pay, or None when Stripe is ready."""
    if djstripe_settings.STRIPE_SECRET_KEY:
        return None
    return (
        "STRIPE_LIVE_SECRET_KEY" if djstripe_settings.STRIPE_LIVE_MODE else "STRIPE_TEST_SECRET_KEY"
    )


# What a buyer is told; what to fix (a setting's name) goes to the log and to staff only.
PAYMENTS_OFF_MESSAGE = (
    "Card payments are not switched on yet, so nothing can be bought or charged. "
    "Please let the site's operator know."
)
PAYMENTS_UNAVAILABLE_MESSAGE = (
    "Card payments are unavailable right now and nothing was charged. "
    "Please try again later or let the site's operator know."
)


def stripe_not_configured_message() -> str:
    """For operators and staff: the setting to set."""
    missing = stripe_missing_setting() or "STRIPE_TEST_SECRET_KEY"
    mode = "live" if djstripe_settings.STRIPE_LIVE_MODE else "test"
    return (
        f"Stripe is not configured: set {missing} (Stripe is in {mode} mode) "
        "in the environment and restart the app to take payments."
    )


def stripe_secret_key() -> str:
    key = djstripe_settings.STRIPE_SECRET_KEY
    if not key:
        logger.error(stripe_not_configured_message())
        raise StripeNotConfigured(PAYMENTS_OFF_MESSAGE)
    return key


def _request_options() -> dict[str, Any]:
    return {"api_key": stripe_secret_key(), "stripe_version": djstripe_settings.STRIPE_API_VERSION}


def _translate(error: stripe.StripeError) -> ApplicationError:
    """Stripe's refusal as our error; the log names what to fix, never the key."""
    if isinstance(error, stripe.AuthenticationError):
        logger.error(
            "Stripe rejected the API key: check STRIPE_TEST_SECRET_KEY / STRIPE_LIVE_SECRET_KEY."
        )
        return StripeNotConfigured(PAYMENTS_UNAVAILABLE_MESSAGE, code="stripe_auth_failed")
    if isinstance(error, stripe.InvalidRequestError) and error.code == "resource_missing":
        return NotFound("Stripe has no such object.")
    logger.warning("Stripe call failed: %s", error)
    return ApplicationError(
        "Stripe could not be reached or refused the request. Please try again in a minute.",
        code="stripe_error",
        status=502,
    )


def checkout_session_create(**params: Any) -> dict[str, Any]:
    try:
        session = stripe.checkout.Session.create(**_request_options(), **params)
    except stripe.StripeError as error:
        raise _translate(error) from error
    return session.to_dict()


def checkout_session_retrieve(*, session_id: str) -> dict[str, Any]:
    """The session as Stripe has it now (a plain dict), its payment intent and charge expanded."""
    try:
        session = stripe.checkout.Session.retrieve(
            session_id, expand=SESSION_EXPAND, **_request_options()
        )
    except stripe.StripeError as error:
        raise _translate(error) from error
    return session.to_dict()


def checkout_session_id_for_intent(*, intent_id: str) -> str | None:
    """The Checkout Session that created a payment intent, or None (not one of ours)."""
    try:
        page = stripe.checkout.Session.list(payment_intent=intent_id, limit=1, **_request_options())
    except stripe.StripeError as error:
        raise _translate(error) from error
    sessions = page.to_dict().get("data") or []
    return str(sessions[0]["id"]) if sessions else None


def charge_retrieve(*, charge_id: str) -> dict[str, Any]:
    """A charge as Stripe has it now (amount_refunded is cumulative)."""
    try:
        charge = stripe.Charge.retrieve(charge_id, **_request_options())
    except stripe.StripeError as error:
        raise _translate(error) from error
    return charge.to_dict()
