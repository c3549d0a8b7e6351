"""Writes for billing: checkout, fulfilment (exactly once), refunds and the webhook endpoint.

Fulfilment has two doors, the Stripe webhook and the success page, and either may come
first, twice, or at the same time. Both end in `payment_fulfil`, which locks the
Payment row and grants with the key `stripe:checkout:<session id>`; the ledger's
unique key makes a second grant impossible even if the lock were missing (SQLite).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from billing import selectors, stripe_gateway
from billing.models import CreditPackage, FulfilledVia, LowCreditNotice, Payment, PaymentStatus
from common.errors import NotFound
from common.links import site_url
from credits import selectors as credits_selectors
from credits import services as credits_services
from teams import selectors as teams_selectors

logger = logging.getLogger(__name__)

METADATA_APP = "portrait-studio"


@dataclass(frozen=True)
class Checkout:
    payment: Payment
    url: str


def checkout_create(
    *,
    actor,
    team_id: int,
    package_slug: str,
    quantity: int | None = None,
    site_url: str,
) -> Checkout:
    """A Stripe Checkout Session for a team admin, and the pending Payment that tracks it.

    The Stripe call runs outside any database transaction (no row is held open on the
    network); the Payment is written after Stripe answers. Should that write fail, the
    session's metadata still names team, package and credits, so fulfilment can
    rebuild the Payment from it.
    """
    team = teams_selectors.team_get_for_admin(user=actor, team_id=team_id)
    package = selectors.package_get_active(slug=package_slug)
    quote = selectors.checkout_quote(package=package, quantity=quantity)
    stripe_gateway.stripe_secret_key()  # says what is missing before anything else

    metadata = {
        "app": METADATA_APP,
        "team_id": str(team.id),
        "team": team.name[:100],
        "package": package.slug,
        "credits": str(quote.credits),
        "user_id": str(actor.id),
        "user_email": actor.email,
    }
    base = site_url.rstrip("/") + "/"
    success = urljoin(base, reverse("billing:success").lstrip("/"))
    cancel = urljoin(base, reverse("billing:team", args=[team.id]).lstrip("/"))
    session = stripe_gateway.checkout_session_create(
        mode="payment",
        line_items=[
            {
                "quantity": 1,
                "price_data": {
                    "currency": quote.currency,
                    "unit_amount": quote.amount_cents,
                    "product_data": {
                        "name": f"{package.name}: {quote.credits:,} credits",
                        "description": f"Portrait Studio credits for {team.name}"[:300],
                    },
                },
            }
        ],
        metadata=metadata,
        payment_intent_data={"metadata": metadata},
        client_reference_id=f"team-{team.id}",
        customer_email=actor.email,
        success_url=f"{success}?session_id={{CHECKOUT_SESSION_ID}}",
        cancel_url=f"{cancel}?checkout=cancelled",
    )
    payment = Payment(
        team=team,
        package=package,
        credits=quote.credits,
        amount_cents=quote.amount_cents,
        currency=quote.currency,
        stripe_session_id=session["id"],
        created_by=actor,
    )
    payment.full_clean()
    payment.save()
    return Checkout(payment=payment, url=session["url"])


# --- fulfilment ----------------------------------------------------------------------------


def _id_of(value: Any) -> str:
    """A Stripe reference is either an id or the expanded object."""
    if isinstance(value, Mapping):
        return str(value.get("id") or "")
    return str(value or "")


def _charge_of(session: Mapping) -> Mapping | None:
    intent = session.get("payment_intent")
    if isinstance(intent, Mapping):
        charge = intent.get("latest_charge")
        if isinstance(charge, Mapping):
            return charge
    return None


def _payment_from_metadata(session: Mapping) -> Payment | None:
    """Rebuild a Payment lost after its session was created; None if the session is not ours."""
    metadata = session.get("metadata") or {}
    if metadata.get("app") != METADATA_APP:
        return None
    try:
        team_id = int(metadata["team_id"])
        credits = int(metadata["credits"])
        package = CreditPackage.objects.get(slug=metadata["package"])
        user_id = int(metadata["user_id"]) if metadata.get("user_id") else None
    except (KeyError, ValueError, CreditPackage.DoesNotExist):
        logger.error("Checkout session %s has unusable metadata: %r", session.get("id"), metadata)
        return None
    try:
        with transaction.atomic():
            return Payment.objects.create(
                team_id=team_id,
                package=package,
                credits=credits,
                amount_cents=int(session.get("amount_total") or 0),
                currency=str(session.get("currency") or package.currency),
                stripe_session_id=session["id"],
                created_by_id=user_id,
            )
    except IntegrityError:
        return Payment.objects.filter(stripe_session_id=session["id"]).first()


def _personal_owner_id(team) -> int | None:
    """A personal team's purchases go straight to its owner's allocation."""
    if not team.is_personal:
        return None
    owner = teams_selectors.team_memberships(team=team).first()
    return owner.user_id if owner else team.created_by_id


@transaction.atomic
def payment_fulfil(*, session: Mapping, via: FulfilledVia, event_id: str = "") -> Payment | None:
    """Grant a paid checkout's credits, once, whoever asks first.

    `session` is the Checkout Session as Stripe sent or returned it. Nothing is granted
    unless its payment_status is "paid". The credits and recipient come from our Payment
    row (what we priced), never from the session. Returns the Payment, or None when the
    session is not one of ours.
    """
    session_id = str(session.get("id") or "")
    payment = (
        Payment.objects.select_for_update(of=("self",))
        .select_related("team", "package")
        .filter(stripe_session_id=session_id)
        .first()
    )
    if payment is None:
        if _payment_from_metadata(session) is None:
            logger.info("Ignoring checkout session %s: not a Portrait Studio purchase", session_id)
            return None
        payment = (
            Payment.objects.select_for_update(of=("self",))
            .select_related("team", "package")
            .get(stripe_session_id=session_id)
        )
    if session.get("payment_status") != "paid" or payment.status != PaymentStatus.PENDING:
        return payment

    if session.get("amount_total") not in (None, payment.amount_cents):
        logger.warning(
            "Checkout %s: Stripe charged %s but we priced %s %s; granting what was priced.",
            session_id,
            session.get("amount_total"),
            payment.amount_cents,
            payment.currency,
        )
    team = payment.team
    charge = _charge_of(session)
    # Refunded (in part) before we fulfilled it, whether its refund event was dropped (no
    # charge to match yet) or recorded on the pending payment: grant only what is still paid.
    refunded_cents = min(
        max(int((charge or {}).get("amount_refunded") or 0), payment.amount_refunded_cents),
        payment.amount_cents,
    )
    withheld = _credits_for_refund(payment, refunded_cents) if refunded_cents else 0
    if payment.credits - withheld > 0:
        credits_services.credits_grant(
            team_id=team.id,
            user_id=_personal_owner_id(team),
            amount=payment.credits - withheld,
            category=credits_services.Category.PURCHASE,
            key=f"stripe:checkout:{session_id}",
            actor_id=payment.created_by_id,
            memo=f"Bought {payment.package.name}: {payment.credits - withheld:,} credits "
            f"({selectors.format_money(payment.amount_cents, payment.currency)})",
            reference=session_id,
            metadata={"payment_id": payment.id, "via": str(via), "event_id": event_id},
        )
    payment.status = (
        PaymentStatus.PAID
        if not refunded_cents
        else PaymentStatus.REFUNDED
        if refunded_cents >= payment.amount_cents
        else PaymentStatus.PARTIALLY_REFUNDED
    )
    payment.amount_refunded_cents = refunded_cents
    payment.credits_refunded = withheld
    payment.paid_at = timezone.now()
    payment.fulfilled_via = via
    payment.fulfilment_event_id = event_id
    payment.stripe_payment_intent_id = _id_of(session.get("payment_intent"))
    if charge is not None:
        payment.stripe_charge_id = _id_of(charge)
        payment.receipt_url = str(charge.get("receipt_url") or "")
    payment.save(
        update_fields=[
            "status",
            "paid_at",
            "fulfilled_via",
            "fulfilment_event_id",
            "stripe_payment_intent_id",
            "stripe_charge_id",
            "receipt_url",
            "amount_refunded_cents",
            "credits_refunded",
            "updated_at",
        ]
    )
    return payment


def payment_reconcile(*, session_id: str, via: FulfilledVia, event_id: str = "") -> Payment | None:
    """Fetch the session from Stripe and fulfil it if it is paid (the webhook's door)."""
    session = stripe_gateway.checkout_session_retrieve(session_id=session_id)
    return payment_fulfil(session=session, via=via, event_id=event_id)


@dataclass(frozen=True)
class Reconciled:
    payment: Payment | None
    team: Any
    paid: bool


def payment_reconcile_for_user(*, user, session_id: str) -> Reconciled:
    """The success page's door: fulfil a session, but only for a member of its team.

    A session id that is malformed, unknown to Stripe, or whose metadata names a team
    the user is not in, is NotFound: nobody can claim (or probe) someone else's purchase.
    """
    if not session_id.startswith("cs_") or len(session_id) > 255:
        raise NotFound("No such checkout.")
    session = stripe_gateway.checkout_session_retrieve(session_id=session_id)
    metadata = session.get("metadata") or {}
    if metadata.get("app") != METADATA_APP:
        raise NotFound("No such checkout.")
    membership = teams_selectors.membership_get(user=user, team_id=metadata.get("team_id"))
    payment = payment_fulfil(session=session, via=FulfilledVia.SUCCESS_PAGE)
    return Reconciled(
        payment=payment,
        team=membership.team,
        paid=payment is not None and payment.status != PaymentStatus.PENDING,
    )


# --- refunds -------------------------------------------------------------------------------


def _credits_for_refund(payment: Payment, amount_refunded_cents: int) -> int:
    """Credits proportional to the money refunded, rounded half up; all of them when in full."""
    refunded = min(amount_refunded_cents, payment.amount_cents)
    if refunded >= payment.amount_cents:
        return payment.credits
    return (payment.credits * refunded * 2 + payment.amount_cents) // (2 * payment.amount_cents)


@transaction.atomic
def payment_refund(*, charge: Mapping, event_id: str = "") -> Payment | None:
    """A charge was refunded (in full or in part): take back proportional credits, once.

    Stripe's `amount_refunded` is cumulative, so each event asks for the credits due in
    total less what earlier refunds already asked for; the ledger key is the charge id
    plus that cumulative amount, so a repeated event takes nothing twice. Credits come
    back from the team pool (a personal team: its owner's allocation); whatever was
    already spent or handed to members is recorded as owed (credits.Debt).
    """
    charge_id = _id_of(charge)
    intent_id = _id_of(charge.get("payment_intent"))
    payments = Payment.objects.select_for_update(of=("self",)).select_related("team")
    payment = (intent_id and payments.filter(stripe_payment_intent_id=intent_id).first()) or (
        payments.filter(stripe_charge_id=charge_id).first()
    )
    if payment is None and intent_id:
        # A fulfilment still in flight has not saved the intent and charge ids: find its
        # session through Stripe, then wait on its row lock for the grant to commit. (Left
        # unmatched, the event would be marked processed and the refund lost for good.)
        session_id = stripe_gateway.checkout_session_id_for_intent(intent_id=intent_id)
        if session_id:
            payment = payments.filter(stripe_session_id=session_id).first()
    if payment is None:
        logger.info("Ignoring refund of charge %s: no Portrait Studio payment", charge_id)
        return None
    refunded_cents = min(int(charge.get("amount_refunded") or 0), payment.amount_cents)
    if refunded_cents <= payment.amount_refunded_cents:
        return payment  # a repeat, or an older event arriving late

    update_fields = ["amount_refunded_cents", "status", "updated_at"]
    if payment.status != PaymentStatus.PENDING:
        due = _credits_for_refund(payment, refunded_cents) - payment.credits_refunded
        if due > 0:
            movement, owed = credits_services.credits_clawback(
                team_id=payment.team_id,
                user_id=_personal_owner_id(payment.team),
                amount=due,
                key=f"stripe:refund:{charge_id}:{refunded_cents}",
                memo=f"Refund of {selectors.format_money(refunded_cents, payment.currency)} "
                f"on a {payment.credits:,}-credit purchase",
            )
            if movement is not None and movement.created:
                payment.credits_refunded += due
                payment.credits_owed += owed
                update_fields += ["credits_refunded", "credits_owed"]
    else:
        # Refunded before it was ever fulfilled: nothing to take back. A full refund closes
        # it (a late success page or webhook grants nothing); a partial one leaves it
        # pending, and payment_fulfil grants only what is still paid for.
        logger.warning("Payment %s refunded before fulfilment", payment.pk)
    payment.amount_refunded_cents = refunded_cents
    if refunded_cents >= payment.amount_cents:
        payment.status = PaymentStatus.REFUNDED
    elif payment.status != PaymentStatus.PENDING:
        payment.status = PaymentStatus.PARTIALLY_REFUNDED
    if not payment.stripe_charge_id and charge_id:
        payment.stripe_charge_id = charge_id
        update_fields.append("stripe_charge_id")
    if not payment.receipt_url and charge.get("receipt_url"):
        payment.receipt_url = str(charge["receipt_url"])
        update_fields.append("receipt_url")
    payment.save(update_fields=update_fields)
    return payment


def payment_refund_reconcile(*, charge_id: str, event_id: str = "") -> Payment | None:
    """Read the refunded charge back from Stripe, then apply it (the webhook's door)."""
    charge = stripe_gateway.charge_retrieve(charge_id=charge_id)
    return payment_refund(charge=charge, event_id=event_id)


# --- the webhook endpoint ------------------------------------------------------------------

WEBHOOK_EVENTS = [
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "charge.refunded",
]


@dataclass(frozen=True)
class WebhookSetup:
    endpoint: Any  # djstripe.models.WebhookEndpoint
    created: bool


def webhook_endpoint_setup(*, base_url: str, force: bool = False) -> WebhookSetup:
    """Create the Stripe webhook endpoint for this site (through dj-stripe), once per base URL.

    dj-stripe keeps the endpoint's signing secret on its WebhookEndpoint row and serves it
    at `djstripe:djstripe_webhook_by_uuid`; the uuid travels in the endpoint's metadata.
    An endpoint already stored for the same base URL is returned unless `force` is set.
    """
    from uuid import uuid4

    from djstripe.models import WebhookEndpoint
    from djstripe.settings import djstripe_settings

    base = base_url.rstrip("/") + "/"
    if not force:
        existing = WebhookEndpoint.objects.filter(url__startswith=base).order_by("-created").first()
        if existing is not None:
            return WebhookSetup(endpoint=existing, created=False)
    api_key = stripe_gateway.stripe_secret_key()
    uuid = uuid4()
    path = reverse("djstripe:djstripe_webhook_by_uuid", kwargs={"uuid": uuid})
    try:
        data = WebhookEndpoint._api_create(
            api_key=api_key,
            url=urljoin(base, path.lstrip("/")),
            enabled_events=WEBHOOK_EVENTS,
            api_version=djstripe_settings.STRIPE_API_VERSION,
            metadata={"djstripe_uuid": str(uuid)},
            description="Portrait Studio: credit purchases and refunds",
        )
    except stripe_gateway.stripe.StripeError as error:
        raise stripe_gateway._translate(error) from error
    endpoint = WebhookEndpoint.sync_from_stripe_data(data, api_key=api_key)
    return WebhookSetup(endpoint=endpoint, created=True)


# --- low-credit e-mails ---------------------------------------------------------------------


def low_credit_notices_send() -> list[int]:
    """Tell the admins of each team that has bought credits and now holds fewer than the
    warning threshold (pool plus allocations), once each time it runs low; a team that has
    bought its way back above the threshold is told again the next time. Teams that never
    bought anything get nothing: a new sign-up is not "running low". Returns the ids of the
    teams told."""
    buyers = set(
        Payment.objects.filter(paid_at__isnull=False).values_list("team_id", flat=True).distinct()
    )
    totals = credits_selectors.team_totals(team_ids=buyers)
    left = {team_id: totals.get(team_id, 0) for team_id in buyers}
    recovered = [team_id for team_id, total in left.items() if not credits_selectors.is_low(total)]
    # Back above the threshold *by buying*: credits a running job held and then released
    # do not count, or every failed job would earn the admins another e-mail.
    bought_since = Payment.objects.filter(
        team_id=OuterRef("team_id"), paid_at__gt=OuterRef("sent_at")
    )
    LowCreditNotice.objects.filter(cleared_at__isnull=True, team_id__in=recovered).filter(
        Exists(bought_since)
    ).update(cleared_at=timezone.now())
    already_told = set(
        LowCreditNotice.objects.filter(cleared_at__isnull=True).values_list("team_id", flat=True)
    )
    running_low = [
        team_id
        for team_id in sorted(left)
        if credits_selectors.is_low(left[team_id]) and team_id not in already_told
    ]
    return [
        team_id
        for team_id in running_low
        if _low_credit_notice_send(team_id=team_id, credits_left=left[team_id])
    ]


def _low_credit_notice_send(*, team_id: int, credits_left: int) -> bool:
    """The notice row and the e-mail succeed together: a mail server that is down leaves
    no row, so the next run tries again; a run beside this one finds the row and stops."""
    team = teams_selectors.team_get(team_id=team_id)
    admins = teams_selectors.team_admin_emails(team_id=team_id)
    if not admins:
        return False
    link = site_url("billing:team", team_id)
    try:
        with transaction.atomic():
            LowCreditNotice.objects.create(team_id=team_id, credits_left=credits_left)
            send_mail(
                subject=f"{team.name} is running low on credits: {credits_left} left",
                message=(
                    f"{team.name} has {credits_left} credit{'s' if credits_left != 1 else ''} "
                    "left, counting the pool and every member's allocation. Nobody can "
                    "start a headshot that costs more than they hold.\n\n"
                    f"Buy credits or move them between members:\n{link}"
                    "\n\nYou get this e-mail once each time the team runs low."
                ),
                from_email=None,
                recipient_list=admins,
            )
    except IntegrityError:
        return False
    except OSError:  # smtplib's errors are OSErrors: the mail server is down or refused
        logger.exception("low-credit e-mail to team %s not sent; the next run retries", team_id)
        return False
    return True
