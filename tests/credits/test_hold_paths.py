"""Holds, captures and releases take one SQL statement on PostgreSQL and the ORM elsewhere.

Every rule is checked on both paths: `sql` (PostgreSQL only) and `orm` (forced on any
database by switching the fast path off). The race tests at the end need real
transactions on PostgreSQL.
"""

import threading

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from common.errors import Conflict, InsufficientCredits, NotFound
from credits import selectors
from credits import services as s
from credits.models import Account, Entry, Hold, Transaction
from tests.conftest import needs_postgres
from tests.factories import MembershipFactory, TeamFactory
from tests.threads import race


@pytest.fixture(params=["sql", "orm"])
def path(request, monkeypatch):
    if request.param == "sql":
        needs_postgres()
    else:
        monkeypatch.setattr(s, "_fast_path", lambda: False)
    return request.param


@pytest.fixture
def team():
    return TeamFactory()


@pytest.fixture
def member(team):
    return MembershipFactory(team=team).user


def fund(team, user, amount=10):
    s.credits_grant(
        team_id=team.id, user_id=user.id, amount=amount, category="purchase", key=f"fund:{user.id}"
    )


def bal(team, user):
    return selectors.balance_member(team_id=team.id, user_id=user.id)


def hold(team, user, amount=3, key="job1", **extra):
    return s.credits_hold(
        team_id=team.id, user_id=user.id, amount=amount, key=key, category="headshot", **extra
    )


def counts():
    return Transaction.objects.count(), Entry.objects.count(), Hold.objects.count()


def assert_audit_clean():
    report = selectors.ledger_audit()
    assert report.clean, report.problems


def account(team, user) -> Account:
    return Account.objects.get(kind="member", team_id=team.id, user_id=user.id)


@pytest.mark.django_db
def test_a_hold_reserves_credits_on_the_member_account_and_posts_nothing(path, team, member):
    fund(team, member)
    before = Transaction.objects.count(), Entry.objects.count()
    made = hold(team, member, amount=4, reference="headshot:7", memo="Two portraits")

    stored = Hold.objects.get(key="job1")
    assert made.pk == stored.pk and not made._state.adding
    fields = ("key", "account_id", "category", "reference", "memo", "amount", "captured")
    for field in (*fields, "released"):
        assert getattr(made, field) == getattr(stored, field), field
    assert abs((made.created_at - stored.created_at).total_seconds()) < 1
    assert stored.account.user_id == member.id and stored.outstanding == 4
    assert (stored.memo, stored.reference) == ("Two portraits", "headshot:7")
    held = account(team, member)
    assert (held.balance, held.held) == (6, 4)  # spendable, set aside
    assert bal(team, member) == 6
    assert (Transaction.objects.count(), Entry.objects.count()) == before
    assert_audit_clean()


@pytest.mark.django_db
def test_a_replayed_hold_returns_the_first_and_moves_nothing(path, team, member):
    fund(team, member)
    first = hold(team, member, amount=3)
    before = counts()

    again = hold(team, member, amount=5)  # same key, another amount: still the first hold

    assert (again.pk, again.amount) == (first.pk, 3)
    assert counts() == before
    assert bal(team, member) == 7
    assert_audit_clean()


@pytest.mark.django_db
def test_a_replay_needs_no_balance(path, team, member):
    fund(team, member, 3)
    first = hold(team, member, amount=3)
    assert hold(team, member, amount=3).pk == first.pk
    assert bal(team, member) == 0


@pytest.mark.django_db
@pytest.mark.parametrize("funded", [0, 2])
def test_a_hold_on_a_short_balance_writes_nothing(path, team, member, funded):
    if funded:
        fund(team, member, funded)
    before = counts(), Account.objects.count()

    with pytest.raises(InsufficientCredits, match=f"has {funded} credits; 3 are needed"):
        hold(team, member, amount=3)

    assert (counts(), Account.objects.count()) == before
    assert bal(team, member) == funded
    assert_audit_clean()


@pytest.mark.django_db
def test_a_short_hold_inside_a_callers_transaction_leaves_it_usable(path, team, member):
    fund(team, member, 2)
    with transaction.atomic():
        with pytest.raises(InsufficientCredits):
            hold(team, member, amount=3)
        hold(team, member, amount=2, key="job2")  # the caller's transaction still works
    assert bal(team, member) == 0
    assert list(Hold.objects.values_list("key", flat=True)) == ["job2"]
    assert_audit_clean()


@pytest.mark.django_db
def test_a_hold_needs_a_key_and_a_valid_amount(path, team, member):
    fund(team, member)
    with pytest.raises(ValueError, match="idempotency key"):
        hold(team, member, key="")
    for amount in (0, -1, 2.5, True, 1_000_001):
        with pytest.raises(s.ApplicationError):
            hold(team, member, amount=amount)
    assert counts() == (1, 2, 0)


@pytest.mark.django_db
def test_capture_and_release_settle_exactly_and_replay(path, team, member):
    fund(team, member)
    hold(team, member, amount=9, reference="headshot:1")

    captured = s.credits_capture(hold_key="job1", amount=5, key="job1:capture:0")
    assert captured.created
    tx = captured.transaction
    assert (tx.kind, tx.category, tx.team_id, tx.actor_id, tx.reference) == (
        "capture",
        "headshot",
        team.id,
        member.id,
        "headshot:1",
    )
    assert tx.metadata == {"hold": "job1", "user_id": member.id}
    assert tx.memo == "Charged for delivered images"
    assert Transaction.objects.get(pk=tx.pk).metadata == tx.metadata

    replay = s.credits_capture(hold_key="job1", amount=5, key="job1:capture:0")
    assert (replay.created, replay.transaction.pk) == (False, tx.pk)

    assert sorted(tx.entries.values_list("account__kind", "account__system_code", "amount")) == [
        ("member", "", -5),
        ("system", "spend", 5),
    ]
    assert (account(team, member).balance, account(team, member).held) == (1, 4)

    released = s.credits_release(hold_key="job1", key="job1:release")
    assert released.created and released.transaction.metadata == {"hold": "job1"}
    assert (released.transaction.kind, released.transaction.memo) == (
        "release",
        "Returned: not delivered",
    )
    assert not released.transaction.entries.exists()  # nothing left the account
    again = s.credits_release(hold_key="job1", key="job1:release")
    assert (again.created, again.transaction.pk) == (False, released.transaction.pk)
    assert s.credits_release(hold_key="job1", key="job1:release:2") is None  # nothing left

    settled = Hold.objects.get(key="job1")
    assert (settled.captured, settled.released, settled.outstanding) == (5, 4, 0)
    assert (account(team, member).balance, account(team, member).held) == (5, 0)
    assert selectors.spent_by_user(user_id=member.id) == 5
    assert_audit_clean()


@pytest.mark.django_db
def test_a_partial_release_then_the_rest(path, team, member):
    fund(team, member)
    hold(team, member, amount=6)
    assert s.credits_release(hold_key="job1", key="r1", amount=2).created
    with pytest.raises(Conflict, match="Only 4 credits"):
        s.credits_release(hold_key="job1", key="r2", amount=5)
    assert s.credits_release(hold_key="job1", key="r2", amount=0) is None
    assert s.credits_release(hold_key="job1", key="r3").created
    assert (account(team, member).balance, account(team, member).held) == (10, 0)
    assert_audit_clean()


@pytest.mark.django_db
def test_settling_beyond_the_hold_or_an_unknown_hold_is_refused(path, team, member):
    fund(team, member)
    hold(team, member, amount=3)
    before = counts()

    with pytest.raises(Conflict, match="Only 3 credits"):
        s.credits_capture(hold_key="job1", amount=4, key="c")
    with pytest.raises(NotFound):
        s.credits_capture(hold_key="nope", amount=1, key="c")
    with pytest.raises(NotFound):
        s.credits_release(hold_key="nope", key="r")
    with pytest.raises(s.ApplicationError):
        s.credits_release(hold_key="job1", key="r", amount=-1)

    assert counts() == before
    s.credits_release(hold_key="job1", key="rel")
    with pytest.raises(Conflict, match="Only 0 credits"):
        s.credits_capture(hold_key="job1", amount=1, key="c2")
    assert bal(team, member) == 10
    assert_audit_clean()


@pytest.mark.django_db
def test_a_capture_key_used_by_another_movement_is_a_replay(path, team, member):
    fund(team, member)
    hold(team, member, amount=3)
    first = s.credits_capture(hold_key="job1", amount=1, key="shared")
    assert not s.credits_capture(hold_key="job1", amount=2, key="shared").created
    assert first.transaction.entries.count() == 2
    assert Hold.objects.get().captured == 1


@pytest.mark.django_db
def test_a_capture_carries_the_memo_of_its_hold(path, team, member):
    fund(team, member)
    hold(team, member, amount=4, memo="Headshots: Corporate, 2 image(s)")
    first = s.credits_capture(hold_key="job1", amount=2, key="c0")
    named = s.credits_capture(hold_key="job1", amount=2, key="c1", memo="Retouched again")
    assert first.transaction.memo == "Headshots: Corporate, 2 image(s)"
    assert named.transaction.memo == "Retouched again"


@pytest.mark.django_db
def test_held_credits_cannot_be_moved_elsewhere(path, team, member):
    other = MembershipFactory(team=team).user
    fund(team, member)
    hold(team, member, amount=7)
    with pytest.raises(InsufficientCredits, match="has 3 credits; 4 are needed"):
        s.credits_reassign(
            team_id=team.id, from_user_id=member.id, to_user_id=other.id, amount=4, key="r"
        )
    with pytest.raises(InsufficientCredits):
        hold(team, member, amount=4, key="job2")
    taken, owed = s.credits_clawback(team_id=team.id, user_id=member.id, amount=5, key="cb")
    assert (taken.created, owed) == (True, 2)  # only the spendable 3 are taken back
    assert (account(team, member).balance, account(team, member).held) == (0, 7)
    s.credits_capture(hold_key="job1", amount=7, key="c")  # the job still gets paid for
    assert_audit_clean()


@pytest.mark.django_db
def test_a_members_history_shows_what_was_spent_not_what_was_held(path, team, member):
    fund(team, member)
    hold(team, member, amount=6, memo="Headshots: Studio, 2 image(s)")
    assert [e.amount for e in selectors.history_for_user(user_id=member.id)] == [10]
    s.credits_capture(hold_key="job1", amount=3, key="c0")
    s.credits_release(hold_key="job1", key="rel")

    lines = [(e.amount, e.transaction.memo) for e in selectors.history_for_user(user_id=member.id)]
    assert lines == [(-3, "Headshots: Studio, 2 image(s)"), (10, "")]
    assert sum(amount for amount, _ in lines) == bal(team, member) == 7


@pytest.mark.django_db
def test_the_team_history_shows_captures_and_not_entry_less_releases(path, team, member):
    fund(team, member)
    hold(team, member, amount=6)
    s.credits_capture(hold_key="job1", amount=3, key="c0")
    s.credits_release(hold_key="job1", key="rel")
    kinds = [tx.kind for tx in selectors.history_for_team(team_id=team.id)]
    assert kinds == ["capture", "grant"]


@pytest.mark.django_db
def test_the_audit_finds_held_credits_out_of_step_with_open_holds(path, team, member):
    fund(team, member)
    hold(team, member, amount=4)
    Account.objects.filter(kind="member").update(held=3, balance=7)  # entries still sum to 10
    problems = selectors.ledger_audit().problems
    assert any("holds 3 but its open holds add up to 4" in p for p in problems), problems


@pytest.mark.django_db
def test_the_audit_finds_a_balance_out_of_step_with_its_entries(path, team, member):
    fund(team, member)
    hold(team, member, amount=4)
    Account.objects.filter(kind="member").update(balance=7)
    problems = selectors.ledger_audit().problems
    assert problems == [
        f"account {account(team, member).pk} caches 7 (+4 held) but its entries sum to 10"
    ]


# --- PostgreSQL: round trips and real races -------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_hold_outside_a_transaction_is_one_statement(team, member, settings):
    needs_postgres()
    fund(team, member)
    hold(team, member, amount=1, key="warm")  # the holds account's id is now cached
    s.account_system(s.SystemAccount.SPEND)
    with CaptureQueriesContext(connection) as queries:
        hold(team, member, amount=1, key="job1")
        s.credits_capture(hold_key="job1", amount=1, key="job1:capture")
        s.credits_release(hold_key="warm", key="warm:release")
    assert len(queries) == 3, [q["sql"] for q in queries]

    settings.CREDITS_PREPARED_STATEMENTS = False  # behind a transaction-pooling PgBouncer
    hold(team, member, amount=1, key="job2")
    assert bal(team, member) == 8
    assert_audit_clean()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("in_atomic", [False, True])
def test_concurrent_holds_never_overdraw(path, team, member, in_atomic):
    needs_postgres()
    fund(team, member, 20)

    def work(i: int):
        if in_atomic:
            with transaction.atomic():
                return hold(team, member, amount=3, key=f"job{i}")
        return hold(team, member, amount=3, key=f"job{i}")

    results = race(30, work)
    wins = [r for r in results if isinstance(r, Hold)]
    assert len(wins) == 6, results
    assert all(isinstance(r, (Hold, InsufficientCredits)) for r in results), results
    assert bal(team, member) == 2
    assert Hold.objects.count() == 6
    assert_audit_clean()


@pytest.mark.django_db(transaction=True)
def test_the_same_hold_key_racing_from_many_threads_holds_once(path, team, member):
    needs_postgres()
    fund(team, member, 20)
    results = race(20, lambda i: hold(team, member, amount=3))
    assert all(isinstance(r, Hold) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert bal(team, member) == 17
    assert counts() == (1, 2, 1)  # the grant, and one hold row
    assert_audit_clean()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("second_in_atomic", [False, True])
def test_a_twin_that_loses_the_key_race_answers_with_the_first_hold(
    team, member, second_in_atomic, monkeypatch
):
    """The first hold is written but not committed when its twin runs: the twin's debit
    waits on the row lock, then its insert of the key fails on the unique index, its whole
    statement rolls back, and it answers with the first hold."""
    needs_postgres()
    fund(team, member, 10)
    first_written = threading.Event()
    outcome = {}
    lost_races = []
    run_statement = s._run_statement

    def recording(sql, params):
        rows = run_statement(sql, params)
        if rows is None:
            lost_races.append(params["key"])
        return rows

    monkeypatch.setattr(s, "_run_statement", recording)

    def first() -> None:
        try:
            with transaction.atomic():
                outcome["first"] = hold(team, member, amount=3)
                first_written.set()
                threading.Event().wait(0.5)  # the twin is now blocked on our row lock
        finally:
            connection.close()

    def twin() -> None:
        try:
            first_written.wait(5)
            if second_in_atomic:
                with transaction.atomic():
                    outcome["twin"] = hold(team, member, amount=3)
                    outcome["after"] = hold(team, member, amount=1, key="job2")  # still usable
            else:
                outcome["twin"] = hold(team, member, amount=3)
        except Exception as error:  # pragma: no cover - reported by the assert below
            outcome["twin"] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=twin)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert lost_races == ["job1"]  # the unique index, not the NOT EXISTS, stopped the twin
    assert isinstance(outcome["twin"], Hold), outcome
    assert outcome["twin"].pk == outcome["first"].pk
    assert bal(team, member) == (6 if second_in_atomic else 7)
    assert Hold.objects.count() == (2 if second_in_atomic else 1)
    assert_audit_clean()


@pytest.mark.django_db(transaction=True)
def test_racing_captures_and_releases_never_settle_more_than_the_hold(team, member):
    needs_postgres()
    fund(team, member, 10)
    hold(team, member, amount=10)

    def work(i: int):
        if i % 4 == 3:
            return s.credits_release(hold_key="job1", key=f"r{i}", amount=2)
        return s.credits_capture(hold_key="job1", amount=2, key=f"c{i % 6}")  # some twins

    results = race(16, work)
    assert all(r is None or isinstance(r, (s.Movement, Conflict)) for r in results), results
    settled = Hold.objects.get()
    assert settled.captured + settled.released <= 10
    moved = Transaction.objects.filter(kind__in=["capture", "release"]).count()
    assert moved * 2 == settled.captured + settled.released
    assert bal(team, member) == settled.released
    assert_audit_clean()


@pytest.mark.django_db
def test_the_statements_are_prepared_once_per_connection(team, member):
    """Parsing and planning cost more than running them; Django leaves preparation off
    unless asked, so a regression here would silently double a hold's database time."""
    needs_postgres()
    fund(team, member)
    hold(team, member, amount=1, key="a")
    s.credits_capture(hold_key="a", amount=1, key="a:capture")
    hold(team, member, amount=1, key="b")
    s.credits_release(hold_key="b", key="b:release")
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [" ".join(row[0].split()) for row in cursor.fetchall()]
    # one per statement and parameter types (a release's NULL spend account is its own)
    assert any(sql.startswith("WITH reserved AS") for sql in prepared), prepared
    assert sum(sql.startswith("WITH locked AS") for sql in prepared) >= 2, prepared


@pytest.mark.django_db(transaction=True)
def test_the_preparing_cursor_is_kept_per_connection_and_renewed_after_a_reconnect(team, member):
    """Making a cursor per statement cost a tenth of a hold's client CPU; a kept cursor must
    still follow the connection (a new one after Django reconnects)."""
    needs_postgres()
    fund(team, member)
    hold(team, member, amount=1, key="a")
    kept = connection._credits_preparing_cursor
    hold(team, member, amount=1, key="b")
    assert connection._credits_preparing_cursor is kept

    connection.close()  # what CONN_MAX_AGE or a failed health check does between requests
    hold(team, member, amount=1, key="c")

    renewed = connection._credits_preparing_cursor
    assert renewed is not kept and renewed.cursor.connection is connection.connection
    assert bal(team, member) == 7
    assert sorted(Hold.objects.values_list("key", flat=True)) == ["a", "b", "c"]


# Every index on these tables takes an entry on every hold or capture (a hold inserts a
# hold row, a capture a transaction and two entries; the account update is HOT: `balance`
# and `held` are in no index). Each one here is needed by a read; see
# credits/migrations/0002_narrower_ledger_indexes.py.
HOLD_WRITES_INDEXES = {
    "credits_transaction": {
        "credits_transaction_pkey",
        "credits_transaction_idempotency_key_key",  # idempotency
        "credits_transaction_team_id_ae273dfb",  # history_for_team, spent_by_team_members
        "credits_transaction_created_at_53a1bee0",  # staff metrics' date ranges
        "credits_transaction_actor_id_72d31d16",  # spent_by_user, admin search by email
    },
    "credits_entry": {
        "credits_entry_pkey",
        "credits_entry_acct_tx",  # history_for_user, every read by account
        "credits_entry_account_id_ad37aeb9",  # redundant with acct_tx; see credits.models
        "credits_entry_transaction_id_8e5765f0",  # a transaction's entries
    },
    "credits_hold": {
        "credits_hold_pkey",
        "credits_hold_key_key",  # capture and release find the hold by key
        "credits_hold_account_id_f936e31c",  # the audit: open holds per account
    },
}


@pytest.mark.django_db
def test_a_hold_writes_only_the_indexes_that_reads_need():
    """A new index here costs every hold; add it to this list only with the read that needs
    it (Django adds a varchar_pattern_ops twin to every unique or db_index text field)."""
    needs_postgres()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexname FROM pg_indexes WHERE tablename = ANY(%s)",
            [list(HOLD_WRITES_INDEXES)],
        )
        found: dict[str, set[str]] = {}
        for table, index in cursor.fetchall():
            found.setdefault(table, set()).add(index)
    assert found == HOLD_WRITES_INDEXES


@pytest.mark.django_db
def test_a_hold_runs_its_generic_plan_once_prepared(team, member):
    """PostgreSQL plans a prepared statement for its first five executions' values, then
    keeps one generic plan if it is no worse. Planning this statement costs more than
    running it, so a hold whose plan stopped being generic would pay it every time."""
    needs_postgres()

    def plans() -> tuple[int, int]:
        # The connection (and what it prepared) may outlive earlier tests: compare counts.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement LIKE %s",
                ["%WITH reserved AS%"],
            )
            return cursor.fetchone() or (0, 0)

    fund(team, member)
    generic, custom = plans()
    for i in range(8):
        hold(team, member, amount=1, key=f"job{i}")
    generic_after, custom_after = plans()
    assert generic_after - generic >= 3, (generic_after - generic, custom_after - custom)
    assert bal(team, member) == 2
