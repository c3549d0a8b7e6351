"""Entry.account keeps its own index after all: (account, transaction) would serve every
read by account, but without this one the planner reads a member's history by a bitmap
scan of that index, which tests/common/test_growth_plans.py does not accept yet.

Only the index is created again (Django's AlterField would also drop and re-validate the
foreign key over the whole table).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("credits", "0002_narrower_ledger_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="entry",
                    name="account",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="entries",
                        to="credits.account",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'CREATE INDEX "credits_entry_account_id_ad37aeb9"'
                    ' ON "credits_entry" ("account_id")',
                    reverse_sql='DROP INDEX "credits_entry_account_id_ad37aeb9"',
                ),
            ],
        ),
    ]
