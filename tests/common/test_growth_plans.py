"""Plans at size: with other members' ledger lines piled on top of a member's, the
member's credit history must still be read through the member's own index.

tests/common/test_indexes.py proves an index exists (sequential scans disabled); here the
planner chooses freely with real statistics, as in production. bench/growth.py found
that at 100,000 generations (400,000 entries) the history page took ~130 ms instead of
0.1 ms: filtered through the join on the account, PostgreSQL walks the whole entry table
backwards by transaction id and discards everything that is not the member's.
"""

import pytest
from django.db import connection

from credits import selectors as credits_selectors
from credits import services as credits_services
from credits.models import Account, Entry, Transaction
from tests.conftest import needs_postgres
from tests.factories import MembershipFactory, TeamFactory

pytestmark = pytest.mark.django_db

OTHER_LINES = 20_000


def _crowd(member_id: int, team_id: int) -> None:
    """The member's 20 lines first, then OTHER_LINES of someone else's, all newer."""
    for n in range(20):
        credits_services.credits_grant(
            team_id=team_id, user_id=member_id, amount=1, category="bonus", key=f"m{n}"
        )
    other = MembershipFactory(team=TeamFactory()).user
    account = credits_services.account_member(
        team_id=other.memberships.get().team_id, user_id=other.id
    )
    source = credits_services.account_system(credits_services.SystemAccount.PROMOTIONS)
    tx, entry = Transaction._meta.db_table, Entry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {tx} (idempotency_key, kind, category, team_id, memo, reference,"  # noqa: S608 - our table names
            " metadata, created_at) SELECT 'crowd:' || g, 'grant', 'bonus', NULL, '', '', '{}',"
            " now() FROM generate_series(1, %s) g",
            [OTHER_LINES],
        )
        cursor.execute(
            f"INSERT INTO {entry} (transaction_id, account_id, amount)"  # noqa: S608 - ours
            f" SELECT t.id, leg.account_id, leg.amount FROM {tx} t"
            " CROSS JOIN LATERAL (VALUES (%s, -1), (%s, 1)) leg(account_id, amount)"
            " WHERE t.idempotency_key LIKE 'crowd:%%'",
            [source.pk, account.pk],
        )
        for table in (tx, entry, Account._meta.db_table):
            cursor.execute(f"ANALYZE {table}")


def test_credit_history_reads_the_members_lines_by_their_index_at_size():
    needs_postgres()
    member = MembershipFactory(team=TeamFactory()).user
    team_id = member.memberships.get().team_id
    _crowd(member.id, team_id)
    sql, params = credits_selectors.history_for_user(user_id=member.id)[:20].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0][0]
    reads = dict(_entry_and_transaction_reads(plan["Plan"]))
    # By the (account, transaction) index, or the account index then a sort of the
    # member's few lines: never the whole ledger by transaction id, never a scan.
    entry_index = reads.get("credits_entry", "")
    assert entry_index == "credits_entry_acct_tx" or entry_index.startswith(
        "credits_entry_account_id"
    ), plan
    assert reads.get("credits_transaction") == "credits_transaction_pkey", plan


def _entry_and_transaction_reads(node: dict):
    """(table, index or node type) for each read of the ledger's two big tables."""
    if node.get("Relation Name") in ("credits_entry", "credits_transaction"):
        yield node["Relation Name"], node.get("Index Name") or node["Node Type"]
    for child in node.get("Plans", []):
        yield from _entry_and_transaction_reads(child)
