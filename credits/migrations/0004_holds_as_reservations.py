"""Holds become reservations on the member's account: the columns.

`Account.held` (credits set aside by open holds) and `Hold.memo` (what the job is; its
captures carry it). Migration 0005 moves the holds still open onto them. The data step is
a migration of its own so that, migrating back, it commits before these columns go
(PostgreSQL refuses to alter a table with pending deferred foreign-key checks).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("credits", "0003_entry_account_index_kept"),
    ]

    operations = [
        migrations.AddField(
            model_name="account",
            name="held",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="hold",
            name="memo",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddConstraint(
            model_name="account",
            constraint=models.CheckConstraint(
                condition=models.Q(held__gte=0), name="credits_account_held_not_negative"
            ),
        ),
    ]
