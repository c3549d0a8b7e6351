"""Seed the eleven styles from the engine's look table; staff edit them in admin afterwards."""

from django.db import migrations


def seed(apps, schema_editor):
    from headshots.styles_seed import seed_styles

    seed_styles(apps.get_model("headshots", "HeadshotStyle"))


class Migration(migrations.Migration):
    dependencies = [("headshots", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
