"""Seed the packages on sale, so every database (production included) has them.

Staff change prices and retire packs in the admin afterwards; this never overwrites
an existing package with the same slug.
"""

from django.db import migrations

PACKAGES = [
    {
        "slug": "starter",
        "name": "Starter",
        "description": "For a small team trying it out.",
        "credits": 50,
        "price_cents": 2900,
        "sort_order": 10,
    },
    {
        "slug": "professional",
        "name": "Professional",
        "description": "Most teams start here.",
        "credits": 150,
        "price_cents": 7900,
        "sort_order": 20,
    },
    {
        "slug": "enterprise",
        "name": "Enterprise",
        "description": "The best price per credit.",
        "credits": 500,
        "price_cents": 19900,
        "sort_order": 30,
    },
    {
        "slug": "custom",
        "name": "Custom",
        "description": "Exactly as many credits as you need.",
        "is_custom": True,
        "price_per_credit_cents": 50,
        "min_credits": 10,
        "max_credits": 10_000,
        "sort_order": 40,
    },
]


def seed(apps, schema_editor):
    CreditPackage = apps.get_model("billing", "CreditPackage")
    for fields in PACKAGES:
        slug = fields["slug"]
        defaults = {k: v for k, v in fields.items() if k != "slug"}
        CreditPackage.objects.get_or_create(slug=slug, defaults={"currency": "usd", **defaults})


def unseed(apps, schema_editor):
    CreditPackage = apps.get_model("billing", "CreditPackage")
    CreditPackage.objects.filter(
        slug__in=[p["slug"] for p in PACKAGES], payments__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
