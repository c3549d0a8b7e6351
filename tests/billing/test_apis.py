"""The billing API: the package list and Stripe Checkout, as each kind of caller."""

import pytest

from billing.models import Payment, PaymentStatus
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

CHECKOUT = "/api/v1/billing/checkout"


def test_packages_lists_the_seeded_packs_and_the_custom_amount(packages, user):
    response = client_for(user).get("/api/v1/billing/packages")

    assert response.status_code == 200
    rows = {p["slug"]: p for p in response.json()["results"]}
    assert {s: (p["credits"], p["price_cents"]) for s, p in rows.items() if not p["is_custom"]} == {
        "starter": (50, 2900),
        "professional": (150, 7900),
        "enterprise": (500, 19900),
    }
    custom = rows["custom"]
    assert (custom["price_per_credit_cents"], custom["min_credits"], custom["max_credits"]) == (
        50,
        10,
        10_000,
    )
    assert custom["price_display"] == "$0.50 a credit"


def test_packages_hides_retired_packs(packages, user):
    packages["enterprise"].active = False
    packages["enterprise"].save(update_fields=["active"])

    response = client_for(user).get("/api/v1/billing/packages")

    assert "enterprise" not in [p["slug"] for p in response.json()["results"]]


def test_packages_needs_a_signed_in_user(api, packages):
    response = api.get("/api/v1/billing/packages")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_checkout_as_admin_returns_stripes_url_and_a_pending_payment(
    team_setup, packages, fake_stripe
):
    t = team_setup
    response = client_for(t["admin"]).post(
        CHECKOUT, {"team": t["team"].id, "package": "starter"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["url"] == f"{fake_stripe.url}/c/pay/{body['session_id']}"
    payment = Payment.objects.get(stripe_session_id=body["session_id"])
    assert (payment.team, payment.credits, payment.amount_cents, payment.status) == (
        t["team"],
        50,
        2900,
        PaymentStatus.PENDING,
    )
    assert payment.created_by == t["admin"]


def test_checkout_sends_stripe_one_priced_line_and_metadata_naming_the_purchase(
    team_setup, packages, fake_stripe
):
    t = team_setup
    client_for(t["admin"]).post(
        CHECKOUT, {"team": t["team"].id, "package": "professional"}, format="json"
    )

    [call] = fake_stripe.calls("POST", "/v1/checkout/sessions")
    sent = call.params
    assert sent["mode"] == "payment"
    [line] = sent["line_items"]
    assert (
        line["quantity"],
        line["price_data"]["unit_amount"],
        line["price_data"]["currency"],
    ) == (
        "1",
        "7900",
        "usd",
    )
    assert sent["metadata"] == {
        "app": "portrait-studio",
        "team_id": str(t["team"].id),
        "team": "Acme",
        "package": "professional",
        "credits": "150",
        "user_id": str(t["admin"].id),
        "user_email": t["admin"].email,
    }
    assert sent["success_url"] == (
        "http://testserver/billing/success/?session_id={CHECKOUT_SESSION_ID}"
    )
    assert sent["cancel_url"].startswith(f"http://testserver/billing/teams/{t['team'].id}/")
    assert call.headers["authorization"] == "Bearer sk_test_51PortraitStudioLocalFakeKey0000"


def test_checkout_of_a_custom_amount_charges_per_credit(team_setup, packages, fake_stripe):
    t = team_setup
    response = client_for(t["admin"]).post(
        CHECKOUT, {"team": t["team"].id, "package": "custom", "quantity": 250}, format="json"
    )

    assert response.status_code == 201
    assert (response.json()["credits"], response.json()["amount_cents"]) == (250, 12500)
    [call] = fake_stripe.calls("POST", "/v1/checkout/sessions")
    assert call.params["line_items"][0]["price_data"]["unit_amount"] == "12500"
    assert call.params["metadata"]["credits"] == "250"


@pytest.mark.parametrize("quantity,status", [(9, 400), (10, 201), (10_000, 201), (10_001, 400)])
def test_custom_quantity_must_be_within_bounds(team_setup, packages, fake_stripe, quantity, status):
    t = team_setup
    response = client_for(t["admin"]).post(
        CHECKOUT, {"team": t["team"].id, "package": "custom", "quantity": quantity}, format="json"
    )

    assert response.status_code == status
    assert Payment.objects.count() == (1 if status == 201 else 0)


@pytest.mark.parametrize(
    "body,code",
    [
        ({"package": "platinum"}, "invalid_package"),
        ({"package": "custom"}, "invalid_quantity"),
        ({"package": "starter", "quantity": 20}, "invalid_quantity"),
        ({"package": "custom", "quantity": "lots"}, "invalid"),
        ({"package": "custom", "quantity": 0}, "invalid"),
        ({}, "invalid"),
    ],
)
def test_checkout_refuses_bad_input_without_calling_stripe(
    team_setup, packages, fake_stripe, body, code
):
    t = team_setup
    response = client_for(t["admin"]).post(CHECKOUT, {"team": t["team"].id, **body}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert fake_stripe.requests == []
    assert not Payment.objects.exists()


@pytest.mark.parametrize("who,status", [("anonymous", 401), ("outsider", 404), ("alice", 403)])
def test_only_a_team_admin_can_check_out(api, team_setup, packages, fake_stripe, who, status):
    t = team_setup
    client = api if who == "anonymous" else client_for(t[who])

    response = client.post(CHECKOUT, {"team": t["team"].id, "package": "starter"}, format="json")

    assert response.status_code == status
    assert set(response.json()) >= {"detail", "code"}
    assert fake_stripe.requests == []
    assert not Payment.objects.exists()


def test_checkout_without_stripe_keys_tells_the_buyer_plainly_and_logs_what_to_set(
    team_setup, packages, no_stripe_keys, caplog
):
    t = team_setup
    response = client_for(t["admin"]).post(
        CHECKOUT, {"team": t["team"].id, "package": "starter"}, format="json"
    )

    assert response.status_code == 503
    assert response.json()["code"] == "stripe_not_configured"
    assert response.json()["detail"].startswith("Card payments are not switched on yet")
    assert "STRIPE" not in response.json()["detail"]
    assert "Stripe is not configured: set STRIPE_TEST_SECRET_KEY" in caplog.text
    assert not Payment.objects.exists()


def test_checkout_in_live_mode_without_a_live_key_logs_the_live_setting(
    team_setup, packages, no_stripe_keys, settings, caplog
):
    settings.STRIPE_LIVE_MODE = True
    t = team_setup
    response = client_for(t["admin"]).post(
        CHECKOUT, {"team": t["team"].id, "package": "starter"}, format="json"
    )

    assert response.status_code == 503
    assert "STRIPE_LIVE_SECRET_KEY" in caplog.text


def test_a_key_stripe_rejects_is_reported_not_crashed_on(
    team_setup, packages, fake_stripe, settings
):
    settings.STRIPE_TEST_SECRET_KEY = "pk_test_this_is_a_publishable_key_000000"
    t = team_setup
    response = client_for(t["admin"]).post(
        CHECKOUT, {"team": t["team"].id, "package": "starter"}, format="json"
    )

    assert response.status_code == 503
    assert response.json()["code"] == "stripe_auth_failed"
    assert "STRIPE" not in response.json()["detail"]
    assert not Payment.objects.exists()


def test_the_schema_documents_both_billing_endpoints(user):
    response = client_for(user).get(
        "/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "get" in paths["/api/v1/billing/packages"]
    assert "503" in paths["/api/v1/billing/checkout"]["post"]["responses"]
