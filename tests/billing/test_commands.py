import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from djstripe.models import WebhookEndpoint

from billing.services import WEBHOOK_EVENTS

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = StringIO()
    call_command("billing_webhook_setup", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_webhook_setup_creates_the_endpoint_on_stripe_and_stores_its_secret(fake_stripe):
    output = _run("--url", "https://studio.example.com")

    [call] = fake_stripe.calls("POST", "/v1/webhook_endpoints")
    endpoint = WebhookEndpoint.objects.get()
    assert re.fullmatch(
        rf"https://studio\.example\.com/stripe/webhook/{endpoint.djstripe_uuid}/",
        call.params["url"],
    )
    assert call.params["enabled_events"] == WEBHOOK_EVENTS
    assert call.params["metadata"]["djstripe_uuid"] == str(endpoint.djstripe_uuid)
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.url == call.params["url"]
    assert endpoint.secret in output and endpoint.url in output


def test_webhook_setup_run_twice_keeps_one_endpoint(fake_stripe):
    _run("--url", "https://studio.example.com")

    output = _run("--url", "https://studio.example.com/")

    assert WebhookEndpoint.objects.count() == 1
    assert len(fake_stripe.calls("POST", "/v1/webhook_endpoints")) == 1
    assert "already exists" in output


def test_webhook_setup_without_keys_says_what_to_set(db, no_stripe_keys):
    with pytest.raises(CommandError, match="STRIPE_TEST_SECRET_KEY"):
        _run("--url", "https://studio.example.com")
    assert not WebhookEndpoint.objects.exists()


def test_webhook_setup_refuses_a_non_url(fake_stripe):
    with pytest.raises(CommandError, match="not a URL"):
        _run("--url", "studio")
    assert fake_stripe.requests == []


def test_the_endpoint_it_creates_accepts_events_signed_with_its_secret(
    client, fake_stripe, team_setup, packages
):
    from billing.models import PaymentStatus
    from tests.billing.fixtures import post_event, start_checkout

    _run("--url", "https://studio.example.com")
    endpoint = WebhookEndpoint.objects.get()
    payment = start_checkout(admin=team_setup["admin"], team=team_setup["team"])
    session = fake_stripe.pay(payment.stripe_session_id)

    response = post_event(
        client,
        endpoint,
        fake_stripe.event("checkout.session.completed", session),
        secret=endpoint.secret,
    )

    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
