"""Fewer index entries per movement (every hold writes a transaction, two entries and a
hold): drop the indexes no read uses.

- the varchar_pattern_ops twins Django adds to `unique=True` and `db_index=True` text
  columns (only a LIKE 'prefix%' could use them; nothing here does one);
- transaction.category and transaction.reference: nothing reads by either alone;
- entry.account_id: the (account, transaction) index leads with the same column.

The unique constraints stay as they are (same names, same indexes): they move from
`unique=True` to Meta.constraints only so that Django stops asking for the twins. On
PostgreSQL the database part is therefore just DROP INDEX (no rebuild of a unique index
under lock); other databases alter the fields as Django would.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

DROPPED = {
    # index name: how 0001 created it (for the reverse)
    "credits_transaction_idempotency_key_a9672611_like": (
        "credits_transaction (idempotency_key varchar_pattern_ops)"
    ),
    "credits_transaction_category_c0411b37": "credits_transaction (category)",
    "credits_transaction_category_c0411b37_like": (
        "credits_transaction (category varchar_pattern_ops)"
    ),
    "credits_transaction_reference_4ee4b0fb": "credits_transaction (reference)",
    "credits_transaction_reference_4ee4b0fb_like": (
        "credits_transaction (reference varchar_pattern_ops)"
    ),
    "credits_hold_key_25d284f8_like": "credits_hold (key varchar_pattern_ops)",
    "credits_entry_account_id_ad37aeb9": "credits_entry (account_id)",
}


class OnPostgresDropIndexes(migrations.SeparateDatabaseAndState):
    """The state and other databases' schema change as the operations say; PostgreSQL only
    drops the indexes they would have dropped."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        for name in DROPPED:
            schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        for name, on in DROPPED.items():
            schema_editor.execute(f"CREATE INDEX {schema_editor.quote_name(name)} ON {on}")


OPERATIONS = [
    migrations.AlterField(
        model_name="entry",
        name="account",
        field=models.ForeignKey(
            db_index=False,
            on_delete=django.db.models.deletion.PROTECT,
            related_name="entries",
            to="credits.account",
        ),
    ),
    migrations.AlterField(
        model_name="hold",
        name="key",
        field=models.CharField(max_length=200),
    ),
    migrations.AlterField(
        model_name="transaction",
        name="category",
        field=models.CharField(
            choices=[
                ("purchase", "Purchase"),
                ("allocation", "Allocation"),
                ("headshot", "Headshot"),
                ("character", "Character"),
                ("refund", "Refund"),
                ("reward", "Reward"),
                ("bonus", "Bonus"),
                ("adjustment", "Adjustment"),
            ],
            max_length=20,
        ),
    ),
    migrations.AlterField(
        model_name="transaction",
        name="idempotency_key",
        field=models.CharField(max_length=200),
    ),
    migrations.AlterField(
        model_name="transaction",
        name="reference",
        field=models.CharField(blank=True, max_length=100),
    ),
    migrations.AddConstraint(
        model_name="hold",
        constraint=models.UniqueConstraint(fields=("key",), name="credits_hold_key_key"),
    ),
    migrations.AddConstraint(
        model_name="transaction",
        constraint=models.UniqueConstraint(
            fields=("idempotency_key",), name="credits_transaction_idempotency_key_key"
        ),
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("credits", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        OnPostgresDropIndexes(database_operations=OPERATIONS, state_operations=OPERATIONS),
    ]
