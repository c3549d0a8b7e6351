"""The admin staff use: every page opens, the ledger and payments are read-only, styles get a
rendered sample, generations filter, users are onboarded when added here."""

from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from accounts.models import User
from billing.models import Payment
from credits import selectors as credits_selectors
from credits import services as credits_services
from credits.models import Account, Debt, Entry, Hold, Transaction
from headshots.models import HeadshotStyle, Status
from staff.models import AuditLog
from tests.factories import MembershipFactory, TeamFactory
from tests.staff.conftest import spent_generation

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(staff_user):
    client = Client()
    client.force_login(staff_user)
    return client


def test_every_admin_list_opens_for_staff(browser, member):
    spent_generation(member)
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        response = browser.get(url, follow=True)
        assert response.status_code == 200, url
        first = model_admin.get_queryset(response.wsgi_request).first()
        if first is not None and opts.model_name != "sitesettings":
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk])
            assert browser.get(change).status_code == 200, change


def test_the_admin_index_is_branded_with_one_section_per_app_and_few_stripe_models(browser):
    """Two sections were both called "Accounts" (ours and allauth's), a plural read
    "Team style policys" and dj-stripe listed some 40 models staff never use."""
    html = browser.get(reverse("admin:index")).content.decode()
    assert "Portrait Studio · staff" in html
    captions = [part.split(">", 1)[1].split("<", 1)[0] for part in html.split("<caption>")[1:]]
    names = [c.split(">")[-1].strip() for c in captions]
    assert "Users" in names and "Accounts" in names, names
    assert len(names) == len(set(names)), names
    assert "Team style policies" in html and "policys" not in html
    stripe = {m.__name__ for m in admin.site._registry if m._meta.app_label == "djstripe"}
    assert len(stripe) <= 10 and {"Event", "Refund", "WebhookEndpoint"} <= stripe


@pytest.mark.parametrize("model", [Transaction, Account, Hold, Entry, Debt, Payment, AuditLog])
def test_ledger_payments_and_audit_log_are_read_only(rf, staff_user, model):
    model_admin = admin.site._registry.get(model)
    if model is Entry:
        assert model_admin is None  # entries are shown inline on their transaction only
        return
    request = rf.get("/admin/")
    request.user = staff_user
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_a_ledger_row_cannot_be_changed_through_the_admin(browser, member):
    tx = Transaction.objects.first()
    account = Account.objects.filter(user=member).first()
    assert browser.get("/admin/credits/transaction/add/").status_code == 403
    assert (
        browser.post(f"/admin/credits/transaction/{tx.pk}/change/", {"memo": "x"}).status_code
        == 403
    )
    assert (
        browser.post(f"/admin/credits/account/{account.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert (
        browser.post(f"/admin/credits/account/{account.pk}/change/", {"balance": "999"}).status_code
        == 403
    )
    account.refresh_from_db()
    assert account.balance == 100
    view = browser.get(f"/admin/credits/transaction/{tx.pk}/change/")
    assert view.status_code == 200
    assert "entries" in view.content.decode().lower()
    assert credits_selectors.ledger_audit().clean


def test_styles_list_edits_order_active_premium_cost_and_renders_a_sample(browser, media):
    style = HeadshotStyle.objects.get(slug="corporate")
    listing = browser.get("/admin/headshots/headshotstyle/").content.decode()
    for field in ("base_cost", "is_premium", "is_active", "sort_order"):
        assert f'name="form-0-{field}"' in listing
    assert not style.sample

    response = browser.post(
        "/admin/headshots/headshotstyle/",
        {"action": "render_sample", "_selected_action": [style.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert "Rendered a new sample for: " in response.content.decode()
    style.refresh_from_db()
    assert style.sample
    with style.sample.open("rb") as handle:
        assert handle.read(3) == b"\xff\xd8\xff"  # a JPEG
    listing = browser.get("/admin/headshots/headshotstyle/").content.decode()
    assert "<img" in listing
    change = browser.get(f"/admin/headshots/headshotstyle/{style.pk}/change/").content.decode()
    assert "<img" in change


def test_generations_filter_by_status_style_team_and_date(browser, member):
    other = MembershipFactory(team=TeamFactory(name="Zeta")).user
    other.team = other.memberships.get().team
    credits_services.credits_grant(
        team_id=other.team.id, user_id=other.id, amount=20, category="purchase", key="z"
    )
    done = spent_generation(member, costs=(3,))
    failed = spent_generation(member, costs=(), status=Status.FAILED, style="linkedin")
    theirs = spent_generation(other, costs=(3,))
    url = "/admin/headshots/headshotgeneration/"

    def ids(query: str) -> set[int]:
        response = browser.get(f"{url}?{query}")
        assert response.status_code == 200
        return {g.pk for g in response.context["cl"].result_list}

    assert ids("status__exact=completed") == {done.pk, theirs.pk}
    assert ids(f"style__id__exact={failed.style_id}") == {failed.pk}
    assert ids(f"team__id__exact={other.team.id}") == {theirs.pk}
    today = done.created_at.date()
    assert ids(f"created_at__year={today.year}&created_at__month={today.month}") == {
        done.pk,
        failed.pk,
        theirs.pk,
    }
    old = {
        "created_at__gte": "2000-01-01 00:00:00+00:00",
        "created_at__lt": "2000-01-02 00:00:00+00:00",
    }
    assert ids(urlencode(old)) == set()


def test_a_user_added_in_admin_is_onboarded(browser, settings):
    settings.CREDITS_SIGNUP_BONUS = 10
    response = browser.post(
        "/admin/accounts/user/add/",
        {
            "email": "new.hire@example.com",
            "usable_password": "true",
            "password1": "a-long-unusual-pw-81",
            "password2": "a-long-unusual-pw-81",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email="new.hire@example.com")
    assert (
        sum(a.balance for a in credits_selectors.allocations_for_user(user_id=user.id).values())
        == 10
    )
    page = browser.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
    assert "Adjust credits" in page  # the teams inline, with a way to adjust
