"""An admin buys a pack on Stripe (a local fake), the webhook lands, credits reach a member."""

import re

import pytest
import requests

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture says so: a skip, or a failure under REQUIRE_SERVICES
    expect = None

from billing.models import Payment, PaymentStatus
from teams.models import Role
from tests.billing.fixtures import make_webhook_endpoint, seed_packages, signed, webhook_url
from tests.factories import MembershipFactory, TeamFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_buys_a_pack_and_allocates_it_and_the_member_sees_it(
    page, new_page, live_server, login, screenshot, fake_stripe
):
    seed_packages()
    endpoint = make_webhook_endpoint()
    team = TeamFactory(name="Acme Studio")
    admin = MembershipFactory(team=team, role=Role.ADMIN).user
    member = MembershipFactory(team=team).user

    # The admin opens the credits dashboard and buys the Starter pack.
    login(page, admin)
    page.goto(f"/billing/teams/{team.id}/")
    expect(page.get_by_test_id("pool-balance")).to_have_text("0")
    screenshot(page, "1-dashboard-empty")
    page.get_by_test_id("pack-starter").get_by_role("button", name="Buy 50 credits").click()

    # The buy button redirects the browser to Stripe's hosted checkout (here: the fake).
    page.wait_for_url(re.compile(re.escape(fake_stripe.url) + r"/c/pay/cs_test_\w+"))
    session_id = page.url.rsplit("/", 1)[-1]
    assert Payment.objects.get().stripe_session_id == session_id
    screenshot(page, "2-stripe-checkout")

    # The buyer pays; Stripe posts the signed event to the webhook over real HTTP.
    session = fake_stripe.pay(session_id)
    payload, signature = signed(fake_stripe.event("checkout.session.completed", session))
    response = requests.post(
        live_server.url + webhook_url(endpoint),
        data=payload,
        headers={"Content-Type": "application/json", "Stripe-Signature": signature},
        timeout=15,
    )
    assert response.status_code == 200, response.text
    assert Payment.objects.get().status == PaymentStatus.PAID

    # Stripe then sends the buyer back to the success page: it finds the purchase done.
    page.goto(f"/billing/success/?session_id={session_id}")
    expect(page.get_by_test_id("purchase-result")).to_contain_text("50 credits")
    screenshot(page, "3-success-page")
    page.get_by_role("link", name="Back to credits").click()

    # The pool holds the pack (once); hand 20 credits to the member.
    expect(page.get_by_test_id("pool-balance")).to_have_text("50")
    expect(page.get_by_test_id("purchases")).to_contain_text("Paid")
    allocate = page.get_by_test_id("allocate-form")
    allocate.get_by_label("Member").select_option(str(member.id))
    allocate.get_by_label("Credits").fill("20")
    allocate.get_by_role("button", name="Allocate").click()
    expect(page.get_by_test_id(f"balance-{member.id}")).to_have_text("20")
    expect(page.get_by_test_id("pool-balance")).to_have_text("30")
    expect(page.get_by_test_id("movement-log")).to_contain_text("Allocate")
    screenshot(page, "4-allocated")

    # Asking for more than the pool holds shows why, in place, and moves nothing.
    allocate = page.get_by_test_id("allocate-form")
    allocate.get_by_label("Credits").fill("500")
    allocate.get_by_role("button", name="Allocate").click()
    expect(allocate.get_by_role("alert")).to_have_text(
        "The team pool has 30 credits; 500 are needed."
    )
    expect(page.get_by_test_id("pool-balance")).to_have_text("30")
    screenshot(page, "5-allocate-refused")

    # The member signs in (own browser) and sees the new balance.
    member_page = new_page()
    login(member_page, member)
    expect(member_page.get_by_test_id("total-balance")).to_have_text("20")
    member_page.goto(f"/billing/teams/{team.id}/")
    expect(member_page.get_by_test_id("my-balance")).to_have_text("20")
    expect(member_page.get_by_test_id("my-history")).to_contain_text("+20")
    screenshot(member_page, "6-member-balance")
