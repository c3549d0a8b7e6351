"""Billing fixtures: the fake Stripe server, keys, packages, a webhook endpoint, signed events.

Kept out of conftest.py so the browser tests in tests/e2e can import them too.
"""

from __future__ import annotations

import importlib
import json
import uuid

import pytest
import stripe
from django.apps import apps as django_apps
from django.urls import reverse

from billing import services
from billing.models import CreditPackage
from tests.billing.fake_stripe import FakeStripe

TEST_SECRET_KEY = "sk_test_51PortraitStudioLocalFakeKey0000"
WEBHOOK_SECRET = "whsec_test_portrait_studio_local_secret"
# Nothing in a test may reach api.stripe.com: by default the SDK points at a closed port.
NOWHERE = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def _stripe_never_reaches_the_internet(monkeypatch):
    monkeypatch.setattr(stripe, "api_base", NOWHERE)
    monkeypatch.setattr(stripe, "max_network_retries", 0)


@pytest.fixture(scope="session")
def _fake_stripe_server():
    server = FakeStripe().start()
    yield server
    server.stop()


@pytest.fixture
def fake_stripe(_fake_stripe_server, settings, monkeypatch) -> FakeStripe:
    """Stripe keys set and every SDK call (ours and dj-stripe's) sent to the local fake."""
    _fake_stripe_server.reset()
    settings.STRIPE_LIVE_MODE = False
    settings.STRIPE_TEST_SECRET_KEY = TEST_SECRET_KEY
    settings.STRIPE_API_HOST = _fake_stripe_server.url
    # dj-stripe copies STRIPE_API_HOST into stripe.api_base once, when it is imported,
    # so changing the setting alone would not move the SDK: set both.
    monkeypatch.setattr(stripe, "api_base", _fake_stripe_server.url)
    return _fake_stripe_server


@pytest.fixture
def no_stripe_keys(settings):
    settings.STRIPE_LIVE_MODE = False
    settings.STRIPE_TEST_SECRET_KEY = ""
    settings.STRIPE_LIVE_SECRET_KEY = ""


def seed_packages() -> dict[str, CreditPackage]:
    """The packages the data migration seeds (a transactional test's flush removes them)."""
    migration = importlib.import_module("billing.migrations.0002_seed_credit_packages")
    migration.seed(django_apps, None)
    return {p.slug: p for p in CreditPackage.objects.all()}


@pytest.fixture
def packages(db) -> dict[str, CreditPackage]:
    return seed_packages()


def make_webhook_endpoint():
    from djstripe.models import WebhookEndpoint

    djstripe_uuid = uuid.uuid4()
    return WebhookEndpoint.objects.create(
        id=f"we_test_{djstripe_uuid.hex[:16]}",
        livemode=False,
        secret=WEBHOOK_SECRET,
        url=f"https://studio.example.com/stripe/webhook/{djstripe_uuid}/",
        enabled_events=services.WEBHOOK_EVENTS,
        status="enabled",
        api_version="2026-05-27.dahlia",
        metadata={"djstripe_uuid": str(djstripe_uuid)},
        djstripe_uuid=djstripe_uuid,
    )


@pytest.fixture
def webhook_endpoint(db):
    return make_webhook_endpoint()


def webhook_url(endpoint) -> str:
    return reverse("djstripe:djstripe_webhook_by_uuid", kwargs={"uuid": endpoint.djstripe_uuid})


def signed(event: dict, secret: str = WEBHOOK_SECRET) -> tuple[str, str]:
    payload = json.dumps(event)
    return payload, stripe.WebhookSignature.generate_signature_header(payload, secret)


def post_event(client, endpoint, event: dict, *, secret: str = WEBHOOK_SECRET, signature=True):
    """POST an event to dj-stripe's real webhook view, signed as Stripe would sign it."""
    payload, header = signed(event, secret)
    extra = {"HTTP_STRIPE_SIGNATURE": header} if signature else {}
    return client.post(
        webhook_url(endpoint), data=payload, content_type="application/json", **extra
    )


def start_checkout(*, admin, team, package: str = "starter", quantity: int | None = None):
    return services.checkout_create(
        actor=admin,
        team_id=team.id,
        package_slug=package,
        quantity=quantity,
        site_url="http://testserver/",
    ).payment
