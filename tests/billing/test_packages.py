"""Packages: the seed migration, the one price function, and staff editing in admin."""

import importlib

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError

from billing import selectors
from billing.models import CreditPackage
from common.errors import ApplicationError

pytestmark = pytest.mark.django_db


def test_the_data_migration_seeds_the_four_packages_once():
    CreditPackage.objects.all().delete()
    migration = importlib.import_module("billing.migrations.0002_seed_credit_packages")

    migration.seed(django_apps, None)
    migration.seed(django_apps, None)

    rows = {
        p.slug: (
            p.name,
            p.credits,
            p.price_cents,
            p.price_per_credit_cents,
            p.min_credits,
            p.max_credits,
        )
        for p in CreditPackage.objects.all()
    }
    assert rows == {
        "starter": ("Starter", 50, 2900, 0, 0, 0),
        "professional": ("Professional", 150, 7900, 0, 0, 0),
        "enterprise": ("Enterprise", 500, 19900, 0, 0, 0),
        "custom": ("Custom", 0, 0, 50, 10, 10_000),
    }


def test_the_seed_leaves_a_package_staff_changed_alone(packages):
    packages["starter"].price_cents = 3500
    packages["starter"].save(update_fields=["price_cents"])
    migration = importlib.import_module("billing.migrations.0002_seed_credit_packages")

    migration.seed(django_apps, None)

    assert CreditPackage.objects.get(slug="starter").price_cents == 3500


def test_a_pack_is_quoted_at_its_price(packages):
    quote = selectors.checkout_quote(package=packages["professional"])

    assert (quote.credits, quote.amount_cents, quote.currency) == (150, 7900, "usd")


def test_a_custom_amount_is_quoted_per_credit(packages):
    quote = selectors.checkout_quote(package=packages["custom"], quantity=333)

    assert (quote.credits, quote.amount_cents) == (333, 16650)


@pytest.mark.parametrize("quantity", [None, 9, 10_001, True, 12.5])
def test_a_custom_amount_needs_a_whole_quantity_within_bounds(packages, quantity):
    with pytest.raises(ApplicationError) as error:
        selectors.checkout_quote(package=packages["custom"], quantity=quantity)
    assert error.value.code == "invalid_quantity"


def test_a_pack_refuses_a_quantity(packages):
    with pytest.raises(ApplicationError, match="fixed pack"):
        selectors.checkout_quote(package=packages["starter"], quantity=3)


def test_a_pack_without_a_price_is_invalid():
    package = CreditPackage(slug="free", name="Free", credits=10, price_cents=0)

    with pytest.raises(ValidationError) as error:
        package.full_clean()
    assert "price_cents" in error.value.message_dict


def test_a_custom_package_with_inverted_bounds_is_invalid():
    package = CreditPackage(
        slug="odd",
        name="Odd",
        is_custom=True,
        price_per_credit_cents=50,
        min_credits=100,
        max_credits=10,
    )

    with pytest.raises(ValidationError) as error:
        package.full_clean()
    assert "max_credits" in error.value.message_dict


def test_staff_edit_a_package_in_admin(client, packages, django_user_model):
    staff = django_user_model.objects.create_superuser(
        email="staff@example.com", password="pw-123456"
    )
    client.force_login(staff)
    package = packages["starter"]
    url = f"/admin/billing/creditpackage/{package.id}/change/"
    assert client.get(url).status_code == 200

    response = client.post(
        url,
        {
            "name": "Starter",
            "slug": "starter",
            "description": "",
            "active": "on",
            "sort_order": 10,
            "currency": "usd",
            "credits": 60,
            "price_cents": 2900,
            "price_per_credit_cents": 0,
            "min_credits": 0,
            "max_credits": 0,
        },
    )

    assert response.status_code == 302, response.content
    package.refresh_from_db()
    assert package.credits == 60


def test_payments_are_read_only_in_admin(client, packages, django_user_model):
    staff = django_user_model.objects.create_superuser(
        email="staff@example.com", password="pw-123456"
    )
    client.force_login(staff)

    assert client.get("/admin/billing/payment/").status_code == 200
    assert client.get("/admin/billing/payment/add/").status_code == 403


def test_a_pack_larger_than_one_grant_is_invalid_and_never_charged(packages):
    """Stripe would charge for it, then the grant would refuse it on every webhook retry."""
    big = packages["professional"]
    big.credits = 1_000_001
    with pytest.raises(ValidationError) as error:
        big.full_clean()
    assert "credits" in error.value.message_dict
    big.save()  # a row edited past the bound outside the admin: checkout still refuses it
    with pytest.raises(ApplicationError, match="at most 1,000,000") as refused:
        selectors.checkout_quote(package=big)
    assert refused.value.code == "invalid_quantity"


def test_a_custom_package_cannot_reach_past_one_grant(packages):
    custom = packages["custom"]
    custom.max_credits = 2_000_000
    with pytest.raises(ValidationError) as error:
        custom.full_clean()
    assert "max_credits" in error.value.message_dict
