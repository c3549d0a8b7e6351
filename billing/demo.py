"""Demo data for `make run`: one paid Starter purchase for Acme Studio, and Stripe's status."""

from __future__ import annotations

from django.urls import reverse

from billing import selectors, services, stripe_gateway
from billing.models import FulfilledVia, Payment

DEMO_SESSION_ID = "cs_demo_acme_starter"


def seed_demo(*, stdout) -> None:
    from accounts.models import User
    from teams.models import Team

    team = Team.objects.filter(slug="acme-studio").first()
    admin = User.objects.filter(email="admin@example.com").first()
    starter = selectors.package_list().filter(slug="starter").first()
    if (
        team
        and admin
        and starter
        and not Payment.objects.filter(stripe_session_id=DEMO_SESSION_ID).exists()
    ):
        quote = selectors.checkout_quote(package=starter)
        Payment.objects.create(
            team=team,
            package=starter,
            credits=quote.credits,
            amount_cents=quote.amount_cents,
            currency=quote.currency,
            stripe_session_id=DEMO_SESSION_ID,
            created_by=admin,
        )
        # Fulfilled through the same service a real Stripe payment goes through.
        services.payment_fulfil(
            session={"id": DEMO_SESSION_ID, "payment_status": "paid"},
            via=FulfilledVia.SUCCESS_PAGE,
        )
    if team:
        stdout.write(f"Credits dashboard: {reverse('billing:team', args=[team.id])}")
    missing = stripe_gateway.stripe_missing_setting()
    if missing:
        stdout.write(f"Stripe: not configured, buy buttons are disabled until {missing} is set.")
    else:
        stdout.write(
            "Stripe: keys set. Purchases are credited on the success page; for webhooks run "
            "`manage.py billing_webhook_setup --url <public URL>` (locally: `manage.py stripe_listen`)."
        )
