"""Holds become reservations on the member's account: the holds still open.

Before, a hold posted member -> holds at submit. Now it moves credits from the account's
`balance` to its `held` and posts nothing until a capture (member -> spend). Holds still
open when this runs have their outstanding credits posted back, holds -> member, and
counted in `held`, so their captures and releases work the new way and the holds account
ends at zero. Their memo moves onto the hold row, where captures now read it.

Deploy with the Celery workers stopped: a worker still running the old code would settle
a converted hold the old way (holds -> spend or -> member) and leave `held` behind.
"""

from django.db import migrations
from django.db.models import F
from django.utils import timezone

RESERVE_MEMO = "Moved back to your allocation, held there for a running job"
OLD_DEFAULT_MEMO = "Held for a running job"


def _open_holds(apps):
    Hold = apps.get_model("credits", "Hold")
    return (
        Hold.objects.select_for_update()
        .filter(amount__gt=F("captured") + F("released"))
        .select_related("account")
        .order_by("account_id", "id")
    )


def _move(apps, *, to_reservation: bool) -> None:
    Account = apps.get_model("credits", "Account")
    Transaction = apps.get_model("credits", "Transaction")
    Entry = apps.get_model("credits", "Entry")
    Hold = apps.get_model("credits", "Hold")
    holds_account, _ = Account.objects.get_or_create(kind="system", system_code="holds")
    # Unique per run: migrating back and forth again must not reuse a key.
    now = timezone.now()
    for hold in _open_holds(apps):
        outstanding = hold.amount - hold.captured - hold.released
        sign = 1 if to_reservation else -1
        tx = Transaction.objects.create(
            idempotency_key=f"{'reserve' if to_reservation else 'unreserve'}:{now:%Y%m%d%H%M%S}:{hold.pk}",
            kind="release" if to_reservation else "hold",
            category=hold.category,
            team_id=hold.account.team_id,
            actor_id=hold.account.user_id,
            memo=RESERVE_MEMO if to_reservation else (hold.memo or OLD_DEFAULT_MEMO),
            reference=hold.reference,
            metadata={"hold": hold.key},
            created_at=now,
        )
        Entry.objects.bulk_create(
            [
                Entry(transaction=tx, account=holds_account, amount=-sign * outstanding),
                Entry(transaction=tx, account=hold.account, amount=sign * outstanding),
            ]
        )
        Account.objects.filter(pk=hold.account_id).update(held=F("held") + sign * outstanding)
        if to_reservation and not hold.memo:
            memo = (
                Transaction.objects.filter(idempotency_key=f"hold:{hold.key}")
                .values_list("memo", flat=True)
                .first()
            )
            if memo and memo != OLD_DEFAULT_MEMO:  # no better than a capture's own default
                Hold.objects.filter(pk=hold.pk).update(memo=memo)


def holds_to_reservations(apps, schema_editor) -> None:
    _move(apps, to_reservation=True)


def reservations_to_holds(apps, schema_editor) -> None:
    _move(apps, to_reservation=False)


class Migration(migrations.Migration):
    dependencies = [
        ("credits", "0004_holds_as_reservations"),
    ]

    operations = [
        migrations.RunPython(holds_to_reservations, reservations_to_holds),
    ]
