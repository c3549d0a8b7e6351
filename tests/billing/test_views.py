"""The credits dashboard, the buy buttons and the success page, through the browser's HTTP."""

import re

import pytest

from billing.models import Payment, PaymentStatus
from credits import selectors as credits_selectors
from credits import services as credits_services
from teams.models import Role
from tests.billing.fixtures import start_checkout
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def _url(team, suffix="") -> str:
    return f"/billing/teams/{team.id}/{suffix}"


def _pool(team) -> int:
    return credits_selectors.balance_pool(team_id=team.id)


def _balance(team, user) -> int:
    return credits_selectors.balance_member(team_id=team.id, user_id=user.id)


def _key(html: str, prefix: str) -> str:
    """The one-time key the page rendered into a form."""
    return re.search(rf'name="{prefix}-key" value="([0-9a-f]+)"', html).group(1)


@pytest.fixture
def admin_client(client, team_setup, packages):
    client.force_login(team_setup["admin"])
    return client


def test_admin_sees_pool_members_log_and_purchases(admin_client, team_setup, fake_stripe):
    t = team_setup
    credits_services.credits_allocate(
        team_id=t["team"].id, user_id=t["alice"].id, amount=30, key="a", actor_id=t["admin"].id
    )
    start_checkout(admin=t["admin"], team=t["team"], package="professional")

    response = admin_client.get(_url(t["team"]))

    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'data-testid="pool-balance">70<', html)
    assert re.search(rf'data-testid="balance-{t["alice"].id}">30<', html)
    assert t["bob"].email in html
    assert 'data-testid="movement-log"' in html and "Allocated from the team pool" in html
    assert 'data-testid="purchases"' in html and "Professional" in html and "$79.00" in html
    assert 'data-testid="pack-starter"' in html and "$29.00" in html


def test_admin_sees_what_each_members_running_jobs_hold(admin_client, team_setup):
    t = team_setup
    credits_services.credits_allocate(
        team_id=t["team"].id, user_id=t["alice"].id, amount=30, key="a", actor_id=t["admin"].id
    )
    credits_services.credits_hold(
        team_id=t["team"].id, user_id=t["alice"].id, amount=6, key="j", category="headshot"
    )

    html = admin_client.get(_url(t["team"])).content.decode()

    assert re.search(rf'data-testid="balance-{t["alice"].id}">24<', html)
    assert re.search(rf'data-testid="held-{t["alice"].id}">\+6 held for running jobs<', html)
    assert f'data-testid="held-{t["bob"].id}"' not in html

    members = admin_client.get(f"/api/v1/teams/{t['team'].id}/members").json()["results"]
    assert {m["user_id"]: (m["balance"], m["held"]) for m in members}[t["alice"].id] == (24, 6)


def test_plain_member_sees_only_their_own_balance_and_history(client, team_setup, packages):
    t = team_setup
    credits_services.credits_allocate(
        team_id=t["team"].id, user_id=t["alice"].id, amount=12, key="a", actor_id=t["admin"].id
    )
    credits_services.credits_allocate(
        team_id=t["team"].id, user_id=t["bob"].id, amount=7, key="b", actor_id=t["admin"].id
    )
    client.force_login(t["alice"])

    html = client.get(_url(t["team"])).content.decode()

    assert re.search(r'data-testid="my-balance">12<', html)
    assert 'data-testid="my-history"' in html and "+12" in html
    assert t["bob"].email not in html
    assert "pool-balance" not in html
    assert "movement-log" not in html
    assert "pack-starter" not in html
    assert "purchases" not in html


def test_a_member_sees_what_running_jobs_set_aside_and_what_each_delivery_cost(
    client, team_setup, packages
):
    t = team_setup
    credits_services.credits_allocate(
        team_id=t["team"].id, user_id=t["alice"].id, amount=12, key="a", actor_id=t["admin"].id
    )
    hold = {"team_id": t["team"].id, "user_id": t["alice"].id, "category": "headshot"}
    credits_services.credits_hold(**hold, amount=5, key="job1", memo="Headshots: Studio")
    credits_services.credits_hold(**hold, amount=3, key="job2", memo="Headshots: Office")
    credits_services.credits_capture(hold_key="job2", amount=3, key="job2:capture")
    client.force_login(t["alice"])

    html = client.get(_url(t["team"])).content.decode()

    assert re.search(r'data-testid="my-balance">4<', html)
    assert re.search(r'data-testid="my-held">.*?<strong>5<', html)
    assert "-3" in html and "Headshots: Office" in html  # the delivery, not the hold
    assert "Headshots: Studio" not in html

    credits_services.credits_release(hold_key="job1", key="job1:release")
    html = client.get(_url(t["team"])).content.decode()
    assert re.search(r'data-testid="my-balance">9<', html) and "my-held" not in html


def test_an_outsider_gets_404(client, team_setup):
    client.force_login(team_setup["outsider"])

    assert client.get(_url(team_setup["team"])).status_code == 404


def test_anonymous_is_sent_to_sign_in(client, team_setup):
    response = client.get(_url(team_setup["team"]))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_low_balance_warning_shows_when_the_team_runs_low(admin_client, team_setup, settings):
    settings.CREDITS_LOW_BALANCE_WARNING = 101
    assert (
        'data-testid="low-balance"' in admin_client.get(_url(team_setup["team"])).content.decode()
    )

    settings.CREDITS_LOW_BALANCE_WARNING = 100
    assert (
        'data-testid="low-balance"'
        not in admin_client.get(_url(team_setup["team"])).content.decode()
    )


def test_htmx_allocate_moves_credits_and_rerenders_the_panel(admin_client, team_setup):
    t = team_setup
    page = admin_client.get(_url(t["team"])).content.decode()

    response = admin_client.post(
        _url(t["team"], "allocate/"),
        {
            "allocate-user_id": t["alice"].id,
            "allocate-amount": 25,
            "allocate-key": _key(page, "allocate"),
        },
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html  # a fragment, swapped into #credits-panel
    assert re.search(r'data-testid="pool-balance">75<', html)
    assert re.search(rf'data-testid="balance-{t["alice"].id}">25<', html)
    assert "Allocated 25 credits" in html
    assert (_pool(t["team"]), _balance(t["team"], t["alice"])) == (75, 25)


def test_a_double_submitted_allocate_form_moves_credits_once(admin_client, team_setup):
    t = team_setup
    key = _key(admin_client.get(_url(t["team"])).content.decode(), "allocate")
    form = {"allocate-user_id": t["alice"].id, "allocate-amount": 25, "allocate-key": key}

    admin_client.post(_url(t["team"], "allocate/"), form, HTTP_HX_REQUEST="true")
    admin_client.post(_url(t["team"], "allocate/"), form, HTTP_HX_REQUEST="true")

    assert _balance(t["team"], t["alice"]) == 25


@pytest.mark.parametrize("amount", ["0", "-5", "abc", ""])
def test_a_bad_amount_shows_the_error_and_moves_nothing(admin_client, team_setup, amount):
    t = team_setup
    response = admin_client.post(
        _url(t["team"], "allocate/"),
        {"allocate-user_id": t["alice"].id, "allocate-amount": amount, "allocate-key": "k1"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    assert 'class="error" role="alert"' in response.content.decode()
    assert (_pool(t["team"]), _balance(t["team"], t["alice"])) == (100, 0)
    assert credits_selectors.history_for_team(team_id=t["team"].id).count() == 1  # the seed


def test_allocating_more_than_the_pool_shows_the_short_balance(admin_client, team_setup):
    t = team_setup
    response = admin_client.post(
        _url(t["team"], "allocate/"),
        {"allocate-user_id": t["alice"].id, "allocate-amount": 101, "allocate-key": "k2"},
        HTTP_HX_REQUEST="true",
    )

    assert "The team pool has 100 credits; 101 are needed." in response.content.decode()
    assert (_pool(t["team"]), _balance(t["team"], t["alice"])) == (100, 0)


def test_allocating_to_someone_outside_the_team_is_refused(admin_client, team_setup):
    t = team_setup
    response = admin_client.post(
        _url(t["team"], "allocate/"),
        {"allocate-user_id": t["outsider"].id, "allocate-amount": 5, "allocate-key": "k3"},
        HTTP_HX_REQUEST="true",
    )

    assert 'class="error"' in response.content.decode()
    assert _pool(t["team"]) == 100


def test_a_plain_post_allocates_and_redirects_back(admin_client, team_setup):
    t = team_setup
    response = admin_client.post(
        _url(t["team"], "allocate/"),
        {"allocate-user_id": t["bob"].id, "allocate-amount": 5, "allocate-key": "k4"},
    )

    assert response.status_code == 302
    assert response["Location"] == _url(t["team"])
    assert _balance(t["team"], t["bob"]) == 5


def test_htmx_reassign_moves_between_members(admin_client, team_setup):
    t = team_setup
    credits_services.credits_allocate(
        team_id=t["team"].id, user_id=t["alice"].id, amount=10, key="a"
    )

    response = admin_client.post(
        _url(t["team"], "reassign/"),
        {
            "reassign-from_user_id": t["alice"].id,
            "reassign-to_user_id": t["bob"].id,
            "reassign-amount": 4,
            "reassign-key": "k5",
        },
        HTTP_HX_REQUEST="true",
    )

    assert re.search(rf'data-testid="balance-{t["bob"].id}">4<', response.content.decode())
    assert (_balance(t["team"], t["alice"]), _balance(t["team"], t["bob"])) == (6, 4)


def test_reassigning_more_than_a_member_has_shows_the_error(admin_client, team_setup):
    t = team_setup
    response = admin_client.post(
        _url(t["team"], "reassign/"),
        {
            "reassign-from_user_id": t["alice"].id,
            "reassign-to_user_id": t["bob"].id,
            "reassign-amount": 4,
            "reassign-key": "k6",
        },
        HTTP_HX_REQUEST="true",
    )

    assert "This balance has 0 credits; 4 are needed." in response.content.decode()
    assert _balance(t["team"], t["bob"]) == 0


def test_htmx_auto_distribute_splits_the_pool_evenly(admin_client, team_setup):
    t = team_setup
    response = admin_client.post(
        _url(t["team"], "distribute/"), {"distribute-key": "k7"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert "Distributed 33 credits to each of 3 members" in response.content.decode()
    assert _pool(t["team"]) == 1
    assert _balance(t["team"], t["alice"]) == 33


def test_a_member_cannot_move_credits(client, team_setup):
    t = team_setup
    client.force_login(t["alice"])

    response = client.post(
        _url(t["team"], "allocate/"),
        {"allocate-user_id": t["alice"].id, "allocate-amount": 5, "allocate-key": "k8"},
    )

    assert response.status_code == 403
    assert _pool(t["team"]) == 100


def test_the_log_paginates_in_place(admin_client, team_setup):
    t = team_setup
    for n in range(20):
        credits_services.credits_allocate(
            team_id=t["team"].id, user_id=t["alice"].id, amount=1, key=f"n{n}"
        )

    first = admin_client.get(_url(t["team"])).content.decode()
    second = admin_client.get(_url(t["team"], "log/?log_page=2"), HTTP_HX_REQUEST="true")

    assert "Page 1 of 2" in first
    assert "Page 2 of 2" in second.content.decode()
    assert second.content.decode().count("<tr>") == 1 + 6  # header + the 6 oldest movements


def _add_member_with_credits(team) -> None:
    member = MembershipFactory(team=team).user
    credits_services.credits_allocate(
        team_id=team.id, user_id=member.id, amount=1, key=f"m{member.id}", actor_id=member.id
    )


@pytest.mark.parametrize("extra_members", [0, 6])
def test_the_admin_dashboard_takes_a_fixed_number_of_queries(
    admin_client, team_setup, fake_stripe, django_assert_num_queries, extra_members
):
    t = team_setup
    for _ in range(1 + extra_members):
        _add_member_with_credits(t["team"])
    start_checkout(admin=t["admin"], team=t["team"])

    # The session itself comes from the cache (cached_db sessions), not the database.
    with django_assert_num_queries(15):
        assert admin_client.get(_url(t["team"])).status_code == 200


# --- buying ---------------------------------------------------------------------------------


def test_the_buy_button_sends_the_browser_to_stripe_checkout(admin_client, team_setup, fake_stripe):
    t = team_setup
    response = admin_client.post(_url(t["team"], "checkout/"), {"package": "enterprise"})

    assert response.status_code == 302
    payment = Payment.objects.get()
    assert response["Location"] == f"{fake_stripe.url}/c/pay/{payment.stripe_session_id}"
    assert (payment.credits, payment.amount_cents) == (500, 19900)


def test_the_custom_buy_button_sends_the_quantity(admin_client, team_setup, fake_stripe):
    t = team_setup
    admin_client.post(_url(t["team"], "checkout/"), {"package": "custom", "quantity": "40"})

    assert Payment.objects.get().amount_cents == 2000


def test_a_custom_quantity_out_of_bounds_comes_back_with_the_reason(
    admin_client, team_setup, fake_stripe
):
    t = team_setup
    response = admin_client.post(
        _url(t["team"], "checkout/"), {"package": "custom", "quantity": "5"}, follow=True
    )

    assert "Buy between 10 and 10,000 credits." in response.content.decode()
    assert not Payment.objects.exists()


def test_without_stripe_keys_the_buy_buttons_are_disabled_and_say_why(
    admin_client, team_setup, no_stripe_keys
):
    html = admin_client.get(_url(team_setup["team"])).content.decode()

    assert 'data-testid="stripe-missing"' in html
    assert "Card payments are not switched on yet" in html
    assert "STRIPE_TEST_SECRET_KEY" not in html  # a setting's name is for staff
    pack = html.split('data-testid="pack-starter"', 1)[1].split("</form>", 1)[0]
    assert '<button type="submit" disabled' in pack


def test_without_stripe_keys_staff_are_told_which_setting_to_set(
    client, team_setup, no_stripe_keys
):
    admin = team_setup["admin"]
    admin.is_staff = True
    admin.save(update_fields=["is_staff"])
    client.force_login(admin)
    html = client.get(_url(team_setup["team"])).content.decode()

    assert "Stripe is not configured: set STRIPE_TEST_SECRET_KEY" in html


def test_without_stripe_keys_a_custom_quantity_is_still_priced(
    admin_client, team_setup, no_stripe_keys
):
    """The quantity box was disabled, so htmx sent no quantity and the quote showed an error
    under a valid number."""
    html = admin_client.get(_url(team_setup["team"])).content.decode()
    pack = html.split('data-testid="pack-custom"', 1)[1].split("</form>", 1)[0]
    quantity = pack.split('name="quantity"', 1)[1].split(">", 1)[0]
    assert "disabled" not in quantity


def test_the_quote_prices_a_custom_quantity_with_the_checkout_function(admin_client, team_setup):
    t = team_setup
    ok = admin_client.get(_url(t["team"], "quote/?package=custom&quantity=250"))
    bad = admin_client.get(_url(t["team"], "quote/?package=custom&quantity=20000"))

    assert "$125.00" in ok.content.decode()
    assert "Buy between 10 and 10,000 credits." in bad.content.decode()


# --- coming back from Stripe --------------------------------------------------------------------


def test_the_success_page_fulfils_a_paid_session(admin_client, team_setup, fake_stripe):
    t = team_setup
    payment = start_checkout(admin=t["admin"], team=t["team"])
    fake_stripe.pay(payment.stripe_session_id)

    response = admin_client.get(f"/billing/success/?session_id={payment.stripe_session_id}")

    assert response.status_code == 200
    assert "50 credits" in response.content.decode()
    assert _pool(t["team"]) == 150
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID


def test_reloading_the_success_page_grants_once(admin_client, team_setup, fake_stripe):
    t = team_setup
    payment = start_checkout(admin=t["admin"], team=t["team"])
    fake_stripe.pay(payment.stripe_session_id)
    url = f"/billing/success/?session_id={payment.stripe_session_id}"

    admin_client.get(url)
    admin_client.get(url)

    assert _pool(t["team"]) == 150


def test_the_success_page_of_an_unpaid_session_says_it_is_processing(
    admin_client, team_setup, fake_stripe
):
    t = team_setup
    payment = start_checkout(admin=t["admin"], team=t["team"])

    response = admin_client.get(f"/billing/success/?session_id={payment.stripe_session_id}")

    assert "Payment processing" in response.content.decode()
    assert _pool(t["team"]) == 100


def test_a_member_of_the_team_may_complete_the_purchase_page(
    client, team_setup, packages, fake_stripe
):
    t = team_setup
    payment = start_checkout(admin=t["admin"], team=t["team"])
    fake_stripe.pay(payment.stripe_session_id)
    client.force_login(t["alice"])

    response = client.get(f"/billing/success/?session_id={payment.stripe_session_id}")

    assert response.status_code == 200
    assert _pool(t["team"]) == 150


def test_someone_elses_session_is_404_and_grants_nothing(client, team_setup, packages, fake_stripe):
    t = team_setup
    payment = start_checkout(admin=t["admin"], team=t["team"])
    fake_stripe.pay(payment.stripe_session_id)
    client.force_login(t["outsider"])

    response = client.get(f"/billing/success/?session_id={payment.stripe_session_id}")

    assert response.status_code == 404
    assert _pool(t["team"]) == 100
    assert Payment.objects.get().status == PaymentStatus.PENDING


@pytest.mark.parametrize("session_id", ["", "nonsense", "cs_test_unknown"])
def test_a_bad_session_id_is_404(admin_client, fake_stripe, session_id):
    assert admin_client.get(f"/billing/success/?session_id={session_id}").status_code == 404


def test_a_personal_team_shows_own_balance_and_buy_buttons_without_allocation(
    client, packages, fake_stripe
):
    owner = UserFactory()
    team = TeamFactory(is_personal=True, created_by=owner)
    MembershipFactory(team=team, user=owner, role=Role.ADMIN)
    credits_services.credits_grant(
        team_id=team.id, user_id=owner.id, amount=10, category="bonus", key="bonus"
    )
    client.force_login(owner)

    html = client.get(_url(team)).content.decode()

    assert re.search(r'data-testid="my-balance">10<', html)
    assert 'data-testid="pack-starter"' in html
    assert "allocate-form" not in html
    assert client.post(_url(team, "distribute/"), {"distribute-key": "k"}).status_code == 403


def test_the_reassign_form_starts_on_two_different_members(admin_client, team_setup):
    """'From' and 'To' both defaulted to the first member: a sure error on first use."""
    html = admin_client.get(_url(team_setup["team"])).content.decode()

    def selected(name: str) -> str:
        select = html.split(f'name="reassign-{name}"', 1)[1].split("</select>", 1)[0]
        if " selected>" not in select:  # a browser shows the first option
            return select.split('value="', 1)[1].split('"', 1)[0]
        return select.split(" selected>", 1)[0].rsplit('value="', 1)[1].split('"', 1)[0]

    assert selected("from_user_id") != selected("to_user_id")
