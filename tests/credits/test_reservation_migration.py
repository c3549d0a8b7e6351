"""Migrations 0004-0005 turn holds that were posted to the holds account into reservations."""

import importlib

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.models import F, Sum

from credits import selectors
from credits import services as s
from credits.models import Account, Entry, Hold, Kind, SystemAccount, Transaction
from tests.conftest import needs_postgres
from tests.factories import MembershipFactory

migration = importlib.import_module("credits.migrations.0005_open_holds_to_reservations")


def legacy_hold(*, member: Account, key: str, amount: int, captured: int, memo: str) -> Hold:
    """A hold the way the ledger posted it before reservations: member -> holds at submit,
    holds -> spend for what was captured."""
    holds = s.account_system(SystemAccount.HOLDS)
    spend = s.account_system(SystemAccount.SPEND)
    tx = Transaction.objects.create(
        idempotency_key=f"hold:{key}", kind=Kind.HOLD, category="headshot", memo=memo
    )
    Entry.objects.bulk_create(
        [
            Entry(transaction=tx, account=member, amount=-amount),
            Entry(transaction=tx, account=holds, amount=amount),
        ]
    )
    Account.objects.filter(pk=member.pk).update(balance=F("balance") - amount)
    if captured:
        tx = Transaction.objects.create(
            idempotency_key=f"{key}:capture", kind=Kind.CAPTURE, category="headshot"
        )
        Entry.objects.bulk_create(
            [
                Entry(transaction=tx, account=holds, amount=-captured),
                Entry(transaction=tx, account=spend, amount=captured),
            ]
        )
    return Hold.objects.create(
        key=key, account=member, category="headshot", amount=amount, captured=captured
    )


def holds_account_total() -> int:
    return Entry.objects.filter(account__system_code=SystemAccount.HOLDS).aggregate(
        total=Sum("amount")
    )["total"]


@pytest.fixture
def member():
    membership = MembershipFactory()
    s.credits_grant(
        team_id=membership.team_id,
        user_id=membership.user_id,
        amount=20,
        category="purchase",
        key="fund",
    )
    return Account.objects.get(kind="member", user_id=membership.user_id)


@pytest.mark.django_db
def test_open_holds_become_reservations_and_settle_the_new_way(member):
    legacy_hold(
        member=member, key="open", amount=5, captured=2, memo="Headshots: Studio, 2 image(s)"
    )
    legacy_hold(member=member, key="done", amount=3, captured=3, memo="Headshots: Old")
    assert holds_account_total() == 3

    migration.holds_to_reservations(apps, None)

    member.refresh_from_db()
    assert (member.balance, member.held) == (12, 3)
    assert holds_account_total() == 0
    assert Hold.objects.get(key="open").memo == "Headshots: Studio, 2 image(s)"
    assert Hold.objects.get(key="done").memo == ""  # settled: nothing reads it
    assert selectors.ledger_audit().clean, selectors.ledger_audit().problems

    s.credits_capture(hold_key="open", amount=2, key="open:capture:1")
    s.credits_release(hold_key="open", key="open:release")
    member.refresh_from_db()
    assert (member.balance, member.held) == (13, 0)
    assert selectors.ledger_audit().clean, selectors.ledger_audit().problems


@pytest.mark.django_db
def test_migrating_back_posts_open_reservations_to_the_holds_account(member):
    s.credits_hold(
        team_id=member.team_id, user_id=member.user_id, amount=4, key="new", category="headshot"
    )

    migration.reservations_to_holds(apps, None)

    member.refresh_from_db()
    assert (member.balance, member.held) == (16, 0)
    assert holds_account_total() == 4
    entries = Entry.objects.filter(account=member).aggregate(total=Sum("amount"))["total"]
    assert entries == member.balance  # the old rule: a member's entries sum to its balance


@pytest.mark.django_db(transaction=True)
def test_migrate_back_and_forth_with_two_open_holds_on_one_account(member):
    """Each data step commits before the columns change: PostgreSQL refuses to alter a
    table with deferred foreign-key checks pending (two updates of one account row)."""
    needs_postgres()
    for key, amount in (("a", 5), ("b", 4)):
        s.credits_hold(
            team_id=member.team_id,
            user_id=member.user_id,
            amount=amount,
            key=key,
            category="headshot",
        )
    s.credits_capture(hold_key="a", amount=2, key="a:capture")

    call_command("migrate", "credits", "0003", verbosity=0)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT balance FROM credits_account WHERE id = %s", [member.pk])
            assert cursor.fetchone() == (11,)  # unchanged: it never counted held credits
            cursor.execute(
                "SELECT sum(e.amount) FROM credits_entry e JOIN credits_account a"
                " ON a.id = e.account_id WHERE a.system_code = 'holds'"
            )
            assert cursor.fetchone() == (7,)  # the open 3 + 4, on the holds account
    finally:
        call_command("migrate", "credits", verbosity=0)

    member.refresh_from_db()
    assert (member.balance, member.held) == (11, 7)
    assert selectors.ledger_audit().clean, selectors.ledger_audit().problems
