"""Fulfilment and refunds through dj-stripe's real webhook endpoint, with signed events."""

import threading
import time

import pytest
from django.db import connection, transaction
from django.test import Client
from djstripe.models import Event, WebhookEventTrigger

from billing import services as billing_services
from billing import stripe_gateway
from billing.models import FulfilledVia, Payment, PaymentStatus
from credits import selectors as credits_selectors
from credits import services as credits_services
from credits.models import Debt
from teams.models import Role
from tests.billing.fixtures import (
    make_webhook_endpoint,
    post_event,
    seed_packages,
    start_checkout,
)
from tests.conftest import needs_postgres
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

# team_setup's pool starts with 100 credits; the Starter pack adds 50.
SEEDED = 100


def _pool(team) -> int:
    return credits_selectors.balance_pool(team_id=team.id)


def _assert_ledger_clean() -> None:
    report = credits_selectors.ledger_audit()
    assert report.clean, report.problems


@pytest.fixture
def paid(team_setup, packages, fake_stripe):
    """A Starter checkout by Acme's admin that the buyer has paid on Stripe."""
    payment = start_checkout(admin=team_setup["admin"], team=team_setup["team"])
    session = fake_stripe.pay(payment.stripe_session_id)
    return payment, session


def test_a_paid_session_grants_its_credits_to_the_team_pool(
    client, team_setup, paid, fake_stripe, webhook_endpoint
):
    payment, session = paid
    event = fake_stripe.event("checkout.session.completed", session)

    response = post_event(client, webhook_endpoint, event)

    assert response.status_code == 200, response.content
    assert _pool(team_setup["team"]) == SEEDED + 50
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert payment.fulfilled_via == FulfilledVia.WEBHOOK
    assert payment.fulfilment_event_id == event["id"]
    assert payment.receipt_url.endswith(f"/receipts/{payment.stripe_charge_id}")
    assert payment.stripe_payment_intent_id == session["payment_intent"]
    assert Event.objects.filter(id=event["id"], type="checkout.session.completed").exists()
    _assert_ledger_clean()


def test_the_grant_is_an_audited_purchase_by_the_buyer(
    client, team_setup, paid, fake_stripe, webhook_endpoint
):
    payment, session = paid
    post_event(client, webhook_endpoint, fake_stripe.event("checkout.session.completed", session))

    movement = credits_selectors.history_for_team(team_id=team_setup["team"].id).first()
    assert movement.idempotency_key == f"stripe:checkout:{payment.stripe_session_id}"
    assert movement.category == "purchase"
    assert movement.actor == team_setup["admin"]
    assert "Starter" in movement.memo


def test_the_same_event_sent_again_grants_nothing_more(
    client, team_setup, paid, fake_stripe, webhook_endpoint
):
    _, session = paid
    event = fake_stripe.event("checkout.session.completed", session)
    assert post_event(client, webhook_endpoint, event).status_code == 200

    again = post_event(client, webhook_endpoint, event)

    assert again.status_code == 200
    assert _pool(team_setup["team"]) == SEEDED + 50
    assert Event.objects.filter(id=event["id"]).count() == 1
    _assert_ledger_clean()


def test_a_second_event_for_the_same_session_grants_nothing_more(
    client, team_setup, paid, fake_stripe, webhook_endpoint
):
    """Stripe may send completed and async_payment_succeeded (distinct event ids)."""
    _, session = paid
    post_event(client, webhook_endpoint, fake_stripe.event("checkout.session.completed", session))

    post_event(
        client,
        webhook_endpoint,
        fake_stripe.event("checkout.session.async_payment_succeeded", session),
    )

    assert _pool(team_setup["team"]) == SEEDED + 50


def test_success_page_first_then_the_webhook_still_grants_once(
    client, team_setup, paid, fake_stripe, webhook_endpoint
):
    payment, session = paid
    buyer = Client()
    buyer.force_login(team_setup["admin"])
    page = buyer.get(f"/billing/success/?session_id={payment.stripe_session_id}")
    assert page.status_code == 200
    assert _pool(team_setup["team"]) == SEEDED + 50

    response = post_event(
        client, webhook_endpoint, fake_stripe.event("checkout.session.completed", session)
    )

    assert response.status_code == 200
    assert _pool(team_setup["team"]) == SEEDED + 50
    payment.refresh_from_db()
    assert payment.fulfilled_via == FulfilledVia.SUCCESS_PAGE
    _assert_ledger_clean()


def test_a_bad_signature_is_refused_and_grants_nothing(
    client, team_setup, paid, fake_stripe, webhook_endpoint
):
    _, session = paid
    event = fake_stripe.event("checkout.session.completed", session)

    response = post_event(client, webhook_endpoint, event, secret="whsec_not_the_real_secret")

    assert response.status_code == 400
    assert _pool(team_setup["team"]) == SEEDED
    assert not Event.objects.filter(id=event["id"]).exists()
    assert Payment.objects.get().status == PaymentStatus.PENDING


def test_a_missing_signature_is_refused_and_grants_nothing(
    client, team_setup, paid, fake_stripe, webhook_endpoint
):
    _, session = paid
    event = fake_stripe.event("checkout.session.completed", session)

    response = post_event(client, webhook_endpoint, event, signature=False)

    assert response.status_code == 400
    assert _pool(team_setup["team"]) == SEEDED
    assert not WebhookEventTrigger.objects.filter(valid=True).exists()


def test_an_unpaid_session_grants_nothing(
    client, team_setup, packages, fake_stripe, webhook_endpoint
):
    """A completed checkout with a delayed payment method is not paid yet."""
    payment = start_checkout(admin=team_setup["admin"], team=team_setup["team"])
    session = dict(fake_stripe.session(payment.stripe_session_id), status="complete")
    fake_stripe.session(payment.stripe_session_id)["status"] = "complete"

    response = post_event(
        client, webhook_endpoint, fake_stripe.event("checkout.session.completed", session)
    )

    assert response.status_code == 200
    assert _pool(team_setup["team"]) == SEEDED
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING


def test_the_session_is_read_back_from_stripe_not_trusted_from_the_event(
    client, team_setup, packages, fake_stripe, webhook_endpoint
):
    """An event claiming "paid" for a session Stripe says is unpaid grants nothing."""
    payment = start_checkout(admin=team_setup["admin"], team=team_setup["team"])
    claimed = dict(fake_stripe.session(payment.stripe_session_id), payment_status="paid")

    post_event(client, webhook_endpoint, fake_stripe.event("checkout.session.completed", claimed))

    assert _pool(team_setup["team"]) == SEEDED


def test_a_session_of_another_app_is_ignored(
    client, team_setup, packages, fake_stripe, webhook_endpoint
):
    payment = start_checkout(admin=team_setup["admin"], team=team_setup["team"])
    Payment.objects.all().delete()
    fake_stripe.session(payment.stripe_session_id)["metadata"] = {"order": "42"}
    session = fake_stripe.pay(payment.stripe_session_id)

    response = post_event(
        client, webhook_endpoint, fake_stripe.event("checkout.session.completed", session)
    )

    assert response.status_code == 200
    assert _pool(team_setup["team"]) == SEEDED
    assert not Payment.objects.exists()


def test_a_lost_payment_row_is_rebuilt_from_the_session_metadata(
    client, team_setup, packages, fake_stripe, webhook_endpoint
):
    payment = start_checkout(admin=team_setup["admin"], team=team_setup["team"])
    Payment.objects.all().delete()
    session = fake_stripe.pay(payment.stripe_session_id)

    post_event(client, webhook_endpoint, fake_stripe.event("checkout.session.completed", session))

    rebuilt = Payment.objects.get(stripe_session_id=payment.stripe_session_id)
    assert (rebuilt.credits, rebuilt.amount_cents, rebuilt.status) == (50, 2900, "paid")
    assert _pool(team_setup["team"]) == SEEDED + 50


def test_a_personal_team_purchase_goes_to_its_owner(
    client, packages, fake_stripe, webhook_endpoint
):
    owner = UserFactory()
    team = TeamFactory(is_personal=True, created_by=owner)
    MembershipFactory(team=team, user=owner, role=Role.ADMIN)
    payment = start_checkout(admin=owner, team=team)
    session = fake_stripe.pay(payment.stripe_session_id)

    post_event(client, webhook_endpoint, fake_stripe.event("checkout.session.completed", session))

    assert credits_selectors.balance_member(team_id=team.id, user_id=owner.id) == 50
    assert _pool(team) == 0


# --- refunds ---------------------------------------------------------------------------------


@pytest.fixture
def fulfilled(client, team_setup, paid, fake_stripe, webhook_endpoint):
    payment, session = paid
    post_event(client, webhook_endpoint, fake_stripe.event("checkout.session.completed", session))
    payment.refresh_from_db()
    return payment


def _refund(client, fake_stripe, webhook_endpoint, payment, amount=None):
    charge = fake_stripe.refund(payment.stripe_charge_id, amount)
    event = fake_stripe.event("charge.refunded", charge)
    response = post_event(client, webhook_endpoint, event)
    assert response.status_code == 200, response.content
    return event


def test_a_full_refund_takes_the_credits_back(
    client, team_setup, fulfilled, fake_stripe, webhook_endpoint
):
    _refund(client, fake_stripe, webhook_endpoint, fulfilled)

    assert _pool(team_setup["team"]) == SEEDED
    fulfilled.refresh_from_db()
    assert fulfilled.status == PaymentStatus.REFUNDED
    assert (fulfilled.amount_refunded_cents, fulfilled.credits_refunded) == (2900, 50)
    assert fulfilled.credits_owed == 0
    _assert_ledger_clean()


def test_a_partial_refund_takes_back_a_proportional_share_once(
    client, team_setup, fulfilled, fake_stripe, webhook_endpoint
):
    event = _refund(client, fake_stripe, webhook_endpoint, fulfilled, amount=1450)
    assert _pool(team_setup["team"]) == SEEDED + 25

    post_event(client, webhook_endpoint, event)  # the same event again

    assert _pool(team_setup["team"]) == SEEDED + 25
    fulfilled.refresh_from_db()
    assert fulfilled.status == PaymentStatus.PARTIALLY_REFUNDED
    assert fulfilled.credits_refunded == 25


def test_a_second_partial_refund_takes_only_the_rest(
    client, team_setup, fulfilled, fake_stripe, webhook_endpoint
):
    _refund(client, fake_stripe, webhook_endpoint, fulfilled, amount=1450)

    _refund(client, fake_stripe, webhook_endpoint, fulfilled)  # the remaining 14.50

    assert _pool(team_setup["team"]) == SEEDED
    fulfilled.refresh_from_db()
    assert (fulfilled.status, fulfilled.credits_refunded) == (PaymentStatus.REFUNDED, 50)
    _assert_ledger_clean()


def test_a_refund_of_spent_credits_records_what_is_owed(
    client, team_setup, fulfilled, fake_stripe, webhook_endpoint
):
    t = team_setup
    # The admin hands out all but 20 of the pool's 150 credits.
    credits_services.credits_allocate(
        team_id=t["team"].id, user_id=t["alice"].id, amount=SEEDED + 30, key="hand-out"
    )

    _refund(client, fake_stripe, webhook_endpoint, fulfilled)

    assert _pool(t["team"]) == 0
    fulfilled.refresh_from_db()
    assert (fulfilled.credits_refunded, fulfilled.credits_owed) == (50, 30)
    assert Debt.objects.get(team_id=t["team"].id).amount == 30
    # Members keep what they were given: the clawback only empties the pool.
    assert credits_selectors.balance_member(team_id=t["team"].id, user_id=t["alice"].id) == 130
    _assert_ledger_clean()


def test_a_refund_for_an_unknown_charge_is_ignored(
    client, team_setup, fulfilled, fake_stripe, webhook_endpoint
):
    charge = fake_stripe.refund(fulfilled.stripe_charge_id)
    charge["payment_intent"] = "pi_test_someone_else"
    charge["id"] = "ch_test_someone_else"
    fake_stripe.objects["charge"]["ch_test_someone_else"] = charge

    response = post_event(client, webhook_endpoint, fake_stripe.event("charge.refunded", charge))

    assert response.status_code == 200
    assert _pool(team_setup["team"]) == SEEDED + 50


# --- racing ------------------------------------------------------------------------------------


def _committed_checkout():
    """A webhook endpoint and a fresh team's Starter checkout, committed for other threads."""
    needs_postgres()
    seed_packages()
    endpoint = make_webhook_endpoint()
    team = TeamFactory()
    admin = MembershipFactory(team=team, role=Role.ADMIN).user
    return endpoint, team, admin, start_checkout(admin=admin, team=team)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_refund_arriving_while_the_purchase_is_being_fulfilled_is_not_lost(fake_stripe):
    """The refund's webhook looked the payment up by ids that the fulfilment in flight had
    not committed yet, found nothing, and was marked processed: the buyer kept the credits
    (review finding, reproduced). It now finds the session through Stripe and waits."""
    endpoint, team, _, payment = _committed_checkout()
    fake_stripe.pay(payment.stripe_session_id)
    # What fulfilment read from Stripe just before the buyer was refunded.
    before_refund = stripe_gateway.checkout_session_retrieve(session_id=payment.stripe_session_id)
    charge_id = before_refund["payment_intent"]["latest_charge"]["id"]
    statuses: list[int] = []

    def refund_webhook():
        try:
            charge = fake_stripe.refund(charge_id)
            event = fake_stripe.event("charge.refunded", charge)
            statuses.append(post_event(Client(), endpoint, event).status_code)
        finally:
            connection.close()

    refund = threading.Thread(target=refund_webhook)
    with transaction.atomic():
        billing_services.payment_fulfil(
            session=before_refund, via=FulfilledVia.WEBHOOK, event_id="evt_fulfil"
        )
        refund.start()
        time.sleep(0.5)  # the refund's webhook runs while the grant is not committed
    refund.join(timeout=30)

    assert statuses == [200]
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED and payment.credits_refunded == 50
    assert _pool(team) == 0
    _assert_ledger_clean()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_success_page_and_webhook_racing_still_grant_once(fake_stripe):
    endpoint, team, admin, payment = _committed_checkout()
    session = fake_stripe.pay(payment.stripe_session_id)
    event = fake_stripe.event("checkout.session.completed", session)
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def webhook():
        try:
            barrier.wait()
            statuses.append(post_event(Client(), endpoint, event).status_code)
        finally:
            connection.close()

    def success_page():
        try:
            buyer = Client()
            buyer.force_login(admin)
            barrier.wait()
            url = f"/billing/success/?session_id={payment.stripe_session_id}"
            statuses.append(buyer.get(url).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=f) for f in (webhook, webhook, success_page, success_page)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert statuses == [200] * 4
    assert _pool(team) == 50
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    _assert_ledger_clean()


def test_a_webhook_that_fails_midway_grants_nothing_and_succeeds_when_redelivered(
    team_setup, paid, fake_stripe, webhook_endpoint
):
    """Stripe unreachable while handling: 500, no Event kept, so Stripe's retry is processed."""
    payment, session = paid
    event = fake_stripe.event("checkout.session.completed", session)
    stored = fake_stripe.objects["checkout.session"].pop(payment.stripe_session_id)
    stripe_side = Client(raise_request_exception=False)

    failed = post_event(stripe_side, webhook_endpoint, event)

    assert failed.status_code == 500
    assert _pool(team_setup["team"]) == SEEDED
    assert not Event.objects.filter(id=event["id"]).exists()
    assert WebhookEventTrigger.objects.exclude(exception="").exists()

    fake_stripe.objects["checkout.session"][payment.stripe_session_id] = stored
    assert post_event(stripe_side, webhook_endpoint, event).status_code == 200
    assert _pool(team_setup["team"]) == SEEDED + 50
    _assert_ledger_clean()


def test_a_session_that_created_a_stripe_customer_is_fulfilled_too(
    client, team_setup, packages, fake_stripe, webhook_endpoint
):
    """dj-stripe then also syncs the Customer (GET /v1/customers/<id>) before our handler."""
    payment = start_checkout(admin=team_setup["admin"], team=team_setup["team"])
    fake_stripe.session(payment.stripe_session_id)["customer_creation"] = "always"
    session = fake_stripe.pay(payment.stripe_session_id)

    response = post_event(
        client, webhook_endpoint, fake_stripe.event("checkout.session.completed", session)
    )

    assert response.status_code == 200
    assert fake_stripe.calls("GET", f"/v1/customers/{session['customer']}")
    assert _pool(team_setup["team"]) == SEEDED + 50


def test_a_refund_is_read_back_from_stripe_not_trusted_from_the_event(
    client, team_setup, fulfilled, fake_stripe, webhook_endpoint
):
    charge = fake_stripe.refund(fulfilled.stripe_charge_id, 1450)
    claimed = dict(charge, amount_refunded=2900, refunded=True)

    post_event(client, webhook_endpoint, fake_stripe.event("charge.refunded", claimed))

    assert _pool(team_setup["team"]) == SEEDED + 25
    fulfilled.refresh_from_db()
    assert fulfilled.status == PaymentStatus.PARTIALLY_REFUNDED


def test_a_refund_before_fulfilment_grants_only_what_is_still_paid(
    client, team_setup, paid, fake_stripe, webhook_endpoint
):
    payment, session = paid
    intent = fake_stripe.objects["payment_intent"][session["payment_intent"]]
    charge = fake_stripe.refund(intent["latest_charge"], 1450)  # half, before any webhook
    post_event(client, webhook_endpoint, fake_stripe.event("charge.refunded", charge))
    assert _pool(team_setup["team"]) == SEEDED  # nothing to match yet: nothing moved

    post_event(client, webhook_endpoint, fake_stripe.event("checkout.session.completed", session))

    assert _pool(team_setup["team"]) == SEEDED + 25
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED
    assert (payment.amount_refunded_cents, payment.credits_refunded) == (1450, 25)
    _refund(client, fake_stripe, webhook_endpoint, payment)  # the rest, after fulfilment
    assert _pool(team_setup["team"]) == SEEDED
    _assert_ledger_clean()


def test_a_partial_refund_of_a_pending_payment_still_lets_the_rest_be_granted(
    client, team_setup, paid, fake_stripe, webhook_endpoint
):
    """A pending payment that already knows its intent (e.g. an async payment method)."""
    payment, session = paid
    Payment.objects.filter(pk=payment.pk).update(stripe_payment_intent_id=session["payment_intent"])
    intent = fake_stripe.objects["payment_intent"][session["payment_intent"]]
    charge = fake_stripe.refund(intent["latest_charge"], 1450)
    post_event(client, webhook_endpoint, fake_stripe.event("charge.refunded", charge))
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded_cents) == (PaymentStatus.PENDING, 1450)

    post_event(client, webhook_endpoint, fake_stripe.event("checkout.session.completed", session))

    assert _pool(team_setup["team"]) == SEEDED + 25
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED
    assert (payment.amount_refunded_cents, payment.credits_refunded) == (1450, 25)
    _assert_ledger_clean()


def test_a_full_refund_of_a_pending_payment_closes_it(
    client, team_setup, paid, fake_stripe, webhook_endpoint
):
    payment, session = paid
    Payment.objects.filter(pk=payment.pk).update(stripe_payment_intent_id=session["payment_intent"])
    intent = fake_stripe.objects["payment_intent"][session["payment_intent"]]
    charge = fake_stripe.refund(intent["latest_charge"])
    post_event(client, webhook_endpoint, fake_stripe.event("charge.refunded", charge))

    post_event(client, webhook_endpoint, fake_stripe.event("checkout.session.completed", session))

    assert _pool(team_setup["team"]) == SEEDED
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    _assert_ledger_clean()
