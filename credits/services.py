"""Every credit movement. The only writer of the ledger.

Rules that hold for every function here:
- each movement is one Transaction whose entries sum to zero, keyed by a unique
  idempotency key: calling again with the same key moves nothing and returns the first
  result (`created=False`);
- a user-facing balance never goes below zero: debits are a conditional
  `UPDATE ... WHERE balance >= n`, applied in account-id order so two movements never
  deadlock; a short balance raises InsufficientCredits and nothing is written;
- system accounts (purchases, spend...) keep no cached balance: they would be a single
  hot row every job contends for. Their balance is the sum of their entries;
- a hold is a reservation on the member's account (`balance -> held`, one row), not a
  movement: a member's entries sum to `balance + held`, and only a capture posts.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from common.errors import ApplicationError, Conflict, InsufficientCredits, NotFound
from credits.models import (
    Account,
    AccountKind,
    Category,
    Debt,
    Entry,
    Hold,
    Kind,
    SystemAccount,
    Transaction,
)

__all__ = [
    "Category",
    "Movement",
    "credits_adjust",
    "credits_allocate",
    "credits_auto_distribute",
    "credits_capture",
    "credits_clawback",
    "credits_grant",
    "credits_hold",
    "credits_reassign",
    "credits_refund",
    "credits_release",
    "credits_return_to_pool",
    "credits_reward",
]

MAX_AMOUNT = 1_000_000


@dataclass(frozen=True)
class Movement:
    transaction: Transaction
    created: bool


# --- accounts -------------------------------------------------------------------------


def account_pool(*, team_id: int) -> Account:
    account, _ = Account.objects.get_or_create(kind=AccountKind.POOL, team_id=team_id)
    return account


def account_member(*, team_id: int, user_id: int) -> Account:
    account, _ = Account.objects.get_or_create(
        kind=AccountKind.MEMBER, team_id=team_id, user_id=user_id
    )
    return account


_system_accounts: dict[str, Account] = {}


def account_system(code: SystemAccount) -> Account:
    """System accounts never change once they exist, so their rows are cached per process,
    but only after the transaction that read them commits: a row this transaction created
    could still roll back. post_migrate (migrate, a test flush) drops the cache."""
    account = _system_accounts.get(code)
    if account is None:
        account, _ = Account.objects.get_or_create(kind=AccountKind.SYSTEM, system_code=code)
        transaction.on_commit(lambda: _system_accounts.setdefault(code, account))
    return account


def system_accounts_forget() -> None:
    _system_accounts.clear()


def system_accounts_ensure(**kwargs) -> None:
    """post_migrate: make every system account exist and forget cached ids.

    Through the migrated state's model (`apps`): after migrating back, the table may lack
    columns the current model has."""
    _system_accounts.clear()
    apps = kwargs.get("apps")
    model = apps.get_model("credits", "Account") if apps is not None else Account
    for code in SystemAccount:
        model.objects.get_or_create(kind=AccountKind.SYSTEM, system_code=code)


# --- the one posting primitive ----------------------------------------------------------


def _check_amount(amount: int) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ApplicationError(
            "The amount must be a whole number of credits.", code="invalid_amount"
        )
    if amount <= 0:
        raise ApplicationError(
            "The amount must be a positive number of credits.", code="invalid_amount"
        )
    if amount > MAX_AMOUNT:
        raise ApplicationError(
            f"The amount must be at most {MAX_AMOUNT:,} credits.", code="invalid_amount"
        )


def _post(
    *,
    key: str,
    kind: Kind,
    category: Category,
    legs: list[tuple[Account, int]],
    team_id: int | None = None,
    actor_id: int | None = None,
    memo: str = "",
    reference: str = "",
    metadata: dict | None = None,
    replay_must_match: bool = False,
    from_held: bool = False,
) -> Movement:
    """Write one balanced transaction, once per key. Call inside `transaction.atomic`.

    With `replay_must_match`, a key already used for different legs (another amount or
    other accounts) is a Conflict instead of a silent replay of the first movement: the
    caller reused a client-supplied Idempotency-Key for a different request.
    With `from_held` (a capture), debits come out of the accounts' held credits.
    """
    if not key:
        raise ValueError("Every credit movement needs an idempotency key.")
    legs = [(account, delta) for account, delta in legs if delta != 0]
    if sum(delta for _, delta in legs) != 0:
        raise ValueError("A transaction's entries must sum to zero.")
    # Inserting the key first makes a concurrent duplicate wait on the unique index and
    # then do nothing, instead of both passing a check and both moving credits.
    tx = _insert_once(
        Transaction(
            idempotency_key=key,
            kind=kind,
            category=category,
            team_id=team_id,
            actor_id=actor_id,
            memo=memo[:300],
            reference=reference,
            metadata=metadata or {},
            created_at=timezone.now(),
        )
    )
    if tx is None:
        first = Transaction.objects.get(idempotency_key=key)
        if replay_must_match and not _same_legs(first, kind, legs):
            raise Conflict(
                "This Idempotency-Key was already used for a different request.",
                code="idempotency_key_reused",
            )
        return Movement(transaction=first, created=False)

    for account, delta in sorted(legs, key=lambda leg: leg[0].pk):
        if account.kind == AccountKind.SYSTEM:
            continue
        if delta < 0 and from_held:
            moved = Account.objects.filter(pk=account.pk, held__gte=-delta).update(
                held=F("held") + delta
            )
            if not moved:
                raise RuntimeError(f"Account {account.pk} holds less than its open holds.")
        elif delta < 0:
            moved = Account.objects.filter(pk=account.pk, balance__gte=-delta).update(
                balance=F("balance") + delta
            )
            if not moved:
                raise InsufficientCredits(_short_message(account, -delta))
        else:
            Account.objects.filter(pk=account.pk).update(balance=F("balance") + delta)
    Entry.objects.bulk_create(
        [Entry(transaction=tx, account=account, amount=delta) for account, delta in legs]
    )
    return Movement(transaction=tx, created=True)


def _same_legs(tx: Transaction, kind: Kind, legs: list[tuple[Account, int]]) -> bool:
    stored = sorted(tx.entries.values_list("account_id", "amount"))
    return tx.kind == kind and stored == sorted((account.pk, delta) for account, delta in legs)


def _insert_once(tx: Transaction) -> Transaction | None:
    """INSERT ... ON CONFLICT (idempotency_key) DO NOTHING RETURNING id: one round trip,
    no savepoint. Returns the saved row, or None when the key already exists."""
    columns = [
        "idempotency_key",
        "kind",
        "category",
        "team_id",
        "actor_id",
        "memo",
        "reference",
        "metadata",
        "created_at",
    ]
    connection = transaction.get_connection()
    table = connection.ops.quote_name(Transaction._meta.db_table)
    fields = [Transaction._meta.get_field(name) for name in columns]
    values = [field.get_db_prep_save(getattr(tx, field.attname), connection) for field in fields]
    quoted = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    # Identifiers come from the model's meta and are quoted; every value is a parameter.
    sql = f"INSERT INTO {table} ({quoted}) VALUES ({marks}) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return None
    tx.pk = row[0]
    tx._state.adding = False
    return tx


def _short_message(account: Account, needed: int) -> str:
    balance = Account.objects.values_list("balance", flat=True).get(pk=account.pk)
    whose = "The team pool" if account.kind == AccountKind.POOL else "This balance"
    return f"{whose} has {balance} credits; {needed} are needed."


# --- grants and team movements ------------------------------------------------------------

_GRANT_SOURCES = {
    Category.PURCHASE: SystemAccount.PURCHASES,
    Category.BONUS: SystemAccount.PROMOTIONS,
    Category.REWARD: SystemAccount.PROMOTIONS,
    Category.ADJUSTMENT: SystemAccount.ADJUSTMENTS,
}


@transaction.atomic
def credits_grant(
    *,
    team_id: int,
    amount: int,
    category: Category,
    key: str,
    user_id: int | None = None,
    actor_id: int | None = None,
    memo: str = "",
    reference: str = "",
    metadata: dict | None = None,
) -> Movement:
    """Credits from outside (a purchase, a bonus, a reward) into a pool or a member's allocation."""
    _check_amount(amount)
    source = account_system(_GRANT_SOURCES[category])
    target = (
        account_member(team_id=team_id, user_id=user_id)
        if user_id is not None
        else account_pool(team_id=team_id)
    )
    return _post(
        key=key,
        kind=Kind.GRANT,
        category=category,
        legs=[(source, -amount), (target, amount)],
        team_id=team_id,
        actor_id=actor_id,
        memo=memo,
        reference=reference,
        metadata=metadata,
    )


@transaction.atomic
def credits_allocate(
    *,
    team_id: int,
    user_id: int,
    amount: int,
    key: str,
    actor_id: int | None = None,
    memo: str = "",
) -> Movement:
    """Team pool -> one member's allocation."""
    _check_amount(amount)
    return _post(
        key=key,
        kind=Kind.ALLOCATE,
        category=Category.ALLOCATION,
        legs=[
            (account_pool(team_id=team_id), -amount),
            (account_member(team_id=team_id, user_id=user_id), amount),
        ],
        team_id=team_id,
        actor_id=actor_id,
        memo=memo or "Allocated from the team pool",
        metadata={"to_user_id": user_id},
        replay_must_match=True,
    )


@transaction.atomic
def credits_auto_distribute(
    *, team_id: int, user_ids: list[int], key: str, actor_id: int | None = None
) -> Movement:
    """Split the pool evenly over the given members; the remainder stays in the pool."""
    if not user_ids:
        raise ApplicationError("The team has no members to distribute to.", code="no_members")
    pool = Account.objects.select_for_update().get(pk=account_pool(team_id=team_id).pk)
    share = pool.balance // len(user_ids)
    if share <= 0:
        raise InsufficientCredits(
            f"The team pool has {pool.balance} credits: not enough to give each of "
            f"{len(user_ids)} members at least one."
        )
    legs = [(pool, -share * len(user_ids))]
    legs += [(account_member(team_id=team_id, user_id=uid), share) for uid in sorted(set(user_ids))]
    return _post(
        key=key,
        kind=Kind.AUTO_DISTRIBUTE,
        category=Category.ALLOCATION,
        legs=legs,
        team_id=team_id,
        actor_id=actor_id,
        memo=f"Distributed {share} credits to each of {len(user_ids)} members",
        metadata={"share": share, "user_ids": sorted(set(user_ids))},
    )


@transaction.atomic
def credits_reassign(
    *,
    team_id: int,
    from_user_id: int,
    to_user_id: int,
    amount: int,
    key: str,
    actor_id: int | None = None,
) -> Movement:
    """One member's allocation -> another's, within a team."""
    _check_amount(amount)
    if from_user_id == to_user_id:
        raise ApplicationError("Choose two different members.", code="same_member")
    return _post(
        key=key,
        kind=Kind.REASSIGN,
        category=Category.ALLOCATION,
        legs=[
            (account_member(team_id=team_id, user_id=from_user_id), -amount),
            (account_member(team_id=team_id, user_id=to_user_id), amount),
        ],
        team_id=team_id,
        actor_id=actor_id,
        memo="Reassigned between members",
        metadata={"from_user_id": from_user_id, "to_user_id": to_user_id},
        replay_must_match=True,
    )


@transaction.atomic
def credits_return_to_pool(
    *, team_id: int, user_id: int, key: str, actor_id: int | None = None
) -> Movement | None:
    """A leaving member's whole allocation goes back to the pool (nothing if it is empty).

    Refused while a job holds part of it: its release would land in an allocation nobody
    can use. Checked under the account's row lock, which a hold's conditional UPDATE also
    takes, so a hold committing meanwhile is seen (and one starting later finds nothing).
    """
    member = Account.objects.select_for_update().get(
        pk=account_member(team_id=team_id, user_id=user_id).pk
    )
    if member.held:
        raise Conflict(
            "This member has a job running. Try again when it has finished.",
            code="still_running",
        )
    if member.balance <= 0:
        return None
    return _post(
        key=key,
        kind=Kind.RETURN,
        category=Category.ALLOCATION,
        legs=[(member, -member.balance), (account_pool(team_id=team_id), member.balance)],
        team_id=team_id,
        actor_id=actor_id,
        memo="Returned to the team pool",
        metadata={"from_user_id": user_id},
    )


def _seconds_until(moment) -> int:
    return max(1, math.ceil((moment - timezone.now()).total_seconds()))


@transaction.atomic
def credits_reward(
    *, team_id: int, user_id: int, key: str, amount: int, daily_cap: int, day_start
) -> Movement:
    """A rewarded-ad credit: idempotent by key, at most `daily_cap` rewards since `day_start`."""
    _check_amount(amount)
    existing = Transaction.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return Movement(transaction=existing, created=False)
    member = account_member(team_id=team_id, user_id=user_id)
    # Lock the member's row so two rewards racing cannot both pass the cap check.
    Account.objects.select_for_update().get(pk=member.pk)
    today = Entry.objects.filter(
        account=member,
        transaction__category=Category.REWARD,
        transaction__created_at__gte=day_start,
    ).count()
    if today >= daily_cap:
        raise ApplicationError(
            f"You have reached today's limit of {daily_cap} rewards. Come back tomorrow.",
            code="reward_cap_reached",
            status=429,
            retry_after=_seconds_until(day_start + timedelta(days=1)),
        )
    return credits_grant(
        team_id=team_id,
        user_id=user_id,
        amount=amount,
        category=Category.REWARD,
        key=key,
        memo="Rewarded ad",
    )


# --- holds: set aside at submit, captured for what was delivered, released for the rest --
#
# A hold reserves credits on the member's own account: `balance` goes down and `held` up
# by the same amount in one conditional UPDATE, and the hold row records it. Nothing is
# posted: no credits left the account. A capture posts member -> spend (the entries a
# member's history shows) and lowers `held`; a release moves what is left from `held`
# back to `balance` and records its key in an entry-less transaction, so a replay is
# recognised. So a member's entries always sum to `balance + held`, and the busiest write
# of the product touches one existing row and inserts one, where posting a transaction
# at submit wrote four rows (measured 4-5x slower than the bare UPDATE, bench/credits.py).
#
# On PostgreSQL each of the three is one SQL statement (data-modifying CTEs). A short
# balance writes nothing (the hold row is inserted only from the row the UPDATE
# returned); the key is checked (NOT EXISTS) and then inserted without ON CONFLICT, so a
# twin racing with the same key fails on the unique index, its whole statement rolls
# back, and it answers with the first hold. Other databases (SQLite in `make test`) take
# the ORM path under `transaction.atomic`.


def _fast_path() -> bool:
    return transaction.get_connection().vendor == "postgresql"


_KEY_CONSTRAINTS = {"credits_transaction_idempotency_key_key", "credits_hold_key_key"}


def _run_statement(sql: str, params: dict) -> list[tuple] | None:
    """Run one statement as one all-or-nothing step; None if it lost a same-key race.

    Outside an atomic block the statement is its own transaction: one round trip, no
    BEGIN/COMMIT. Inside one (a submit creates its job and holds its credits together) a
    savepoint keeps the caller's transaction usable when a twin wins the key race.
    """
    connection = transaction.get_connection()
    try:
        if connection.in_atomic_block:
            with transaction.atomic():
                return _execute(connection, sql, params)
        return _execute(connection, sql, params)
    except IntegrityError as error:
        constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
        if constraint in _KEY_CONSTRAINTS:
            return None
        raise


def _execute(connection, sql: str, params: dict) -> list[tuple]:
    """Execute through a Django cursor (error wrapping, query logging) over a psycopg
    cursor that binds on the server and prepares each statement once per connection.

    Parsing and planning these CTE chains cost PostgreSQL more than running them (measured:
    ~570 us of backend CPU a hold unprepared, ~280 us prepared), so they are prepared from
    their first run. With DATABASE_PREPARED_STATEMENTS off, Django turns automatic
    preparation off (`prepare_threshold=None`, for transaction-pooling PgBouncers older than
    1.21): the threshold is then set out of reach, so only statements executed with
    prepare=True are prepared and Django's own cursors never are. Behind such a pooler set
    CREDITS_PREPARED_STATEMENTS = False too.
    While queries are logged (DEBUG, assertNumQueries) they run unprepared: psycopg keeps no
    text of a prepared execution for the log.

    The preparing cursor is made once per database connection and kept open (making and
    closing one cost ~30 us of client CPU, a tenth of a hold); a new connection gets a
    new one.
    """
    # What Django's own connection.cursor() does first.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    logged = connection.queries_logged
    if logged or not settings.CREDITS_PREPARED_STATEMENTS:
        raw = connection.connection.cursor()
        wrapper = connection.make_debug_cursor(raw) if logged else connection.make_cursor(raw)
        with wrapper as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    cursor = getattr(connection, "_credits_preparing_cursor", None)
    if cursor is None or cursor.cursor.connection is not connection.connection:
        if connection.connection.prepare_threshold is None:
            connection.connection.prepare_threshold = 2**31
        cursor = connection.make_cursor(_preparing_cursor_class()(connection.connection))
        connection._credits_preparing_cursor = cursor
    cursor.execute(sql, params)
    return cursor.fetchall()


@functools.cache
def _preparing_cursor_class():
    import psycopg  # only PostgreSQL gets here

    class PreparingCursor(psycopg.Cursor):
        def execute(self, query, params=None, *, prepare=True, binary=None):
            return super().execute(query, params, prepare=prepare, binary=binary)

    return PreparingCursor


def _columns(model, prefix: str = "") -> str:
    return ", ".join(f"{prefix}{field.column}" for field in model._meta.concrete_fields)


def _from_row(model, row):
    """A model instance from a RETURNING row of `_columns(model)`, with the field
    converters the ORM would apply (JSON arrives as text)."""
    connection = transaction.get_connection()
    fields = model._meta.concrete_fields
    values = [
        field.from_db_value(value, None, connection) if hasattr(field, "from_db_value") else value
        for field, value in zip(fields, row, strict=True)
    ]
    return model.from_db(connection.alias, [field.attname for field in fields], values)


# Every value is a parameter.
_HOLD_SQL = """
WITH reserved AS (
    UPDATE credits_account
    SET balance = balance - %(amount)s, held = held + %(amount)s
    WHERE kind = 'member' AND team_id = %(team_id)s AND user_id = %(user_id)s
        AND balance >= %(amount)s
        AND NOT EXISTS (SELECT FROM credits_hold WHERE key = %(key)s)
    RETURNING id
)
INSERT INTO credits_hold
    (key, account_id, category, reference, memo, amount, captured, released, created_at)
SELECT %(key)s, reserved.id, %(category)s, %(reference)s, %(memo)s, %(amount)s, 0, 0, %(now)s
FROM reserved
RETURNING id, account_id
"""


def credits_hold(
    *,
    team_id: int,
    user_id: int,
    amount: int,
    key: str,
    category: Category,
    reference: str = "",
    memo: str = "",
) -> Hold:
    """Set credits of a member's allocation aside for a job. Raises InsufficientCredits
    (nothing written) if short. `memo` names the job; its captures carry it.

    A replayed key returns the first hold and sets nothing more aside.
    """
    _check_amount(amount)
    if not key:
        raise ValueError("Every credit movement needs an idempotency key.")
    memo = memo[:300]
    if not _fast_path():
        return _hold_orm(
            team_id=team_id,
            user_id=user_id,
            amount=amount,
            key=key,
            category=category,
            reference=reference,
            memo=memo,
        )
    now = timezone.now()
    rows = _run_statement(
        _HOLD_SQL,
        {
            "amount": amount,
            "team_id": team_id,
            "user_id": user_id,
            "key": key,
            "category": category,
            "reference": reference,
            "memo": memo,
            "now": now,
        },
    )
    if rows:
        (pk, account_id), captured, released = rows[0], 0, 0
        values = (pk, key, account_id, category, reference, memo, amount, captured, released, now)
        return Hold.from_db(transaction.get_connection().alias, None, values)
    # Nothing was written: the key was used before (or by a twin that just won), or the
    # balance is short.
    first = Hold.objects.filter(key=key).first()
    if first is not None:
        return first
    balance = (
        Account.objects.filter(kind=AccountKind.MEMBER, team_id=team_id, user_id=user_id)
        .values_list("balance", flat=True)
        .first()
    )
    raise InsufficientCredits(f"This balance has {balance or 0} credits; {amount} are needed.")


@transaction.atomic
def _hold_orm(
    *,
    team_id: int,
    user_id: int,
    amount: int,
    key: str,
    category: Category,
    reference: str,
    memo: str,
) -> Hold:
    member = account_member(team_id=team_id, user_id=user_id)
    # The member's row lock makes a same-key twin wait here, then find the first hold.
    member = Account.objects.select_for_update().get(pk=member.pk)
    first = Hold.objects.filter(key=key).first()
    if first is not None:
        return first
    reserved = Account.objects.filter(pk=member.pk, balance__gte=amount).update(
        balance=F("balance") - amount, held=F("held") + amount
    )
    if not reserved:
        raise InsufficientCredits(_short_message(member, amount))
    return Hold.objects.create(
        key=key, account=member, category=category, reference=reference, memo=memo, amount=amount
    )


# Capture and release in one statement: lock the hold row, take `moved` from its
# outstanding amount as locked (a NULL amount: all of it), and only if it fits and the key
# is new, settle the hold, lower the account's `held` (release: back into `balance`),
# insert the transaction and, for a capture, its two entries (member -> spend). The first
# column is the outstanding amount before, so a refusal needs no second look at the hold.
_SETTLE_SQL = f"""
WITH locked AS (
    SELECT h.id, h.key, h.category, h.reference, h.memo, h.account_id, a.team_id, a.user_id,
        h.amount - h.captured - h.released AS outstanding
    FROM credits_hold h JOIN credits_account a ON a.id = h.account_id
    WHERE h.key = %(hold_key)s
    FOR UPDATE OF h
), todo AS (
    SELECT locked.*, coalesce(%(amount)s, locked.outstanding) AS moved FROM locked
    WHERE coalesce(%(amount)s, locked.outstanding) BETWEEN 1 AND locked.outstanding
        AND NOT EXISTS (SELECT FROM credits_transaction WHERE idempotency_key = %(key)s)
), settled AS (
    UPDATE credits_hold h
    SET captured = h.captured + CASE WHEN %(capture)s THEN todo.moved ELSE 0 END,
        released = h.released + CASE WHEN %(capture)s THEN 0 ELSE todo.moved END
    FROM todo WHERE h.id = todo.id
), unheld AS (
    UPDATE credits_account a
    SET held = a.held - todo.moved,
        balance = a.balance + CASE WHEN %(capture)s THEN 0 ELSE todo.moved END
    FROM todo WHERE a.id = todo.account_id
), tx AS (
    INSERT INTO credits_transaction
        (idempotency_key, kind, category, team_id, actor_id, memo, reference, metadata, created_at)
    SELECT %(key)s, %(kind)s, todo.category, todo.team_id, todo.user_id,
        coalesce(nullif(%(memo)s, ''), nullif(todo.memo, ''), %(default_memo)s),
        todo.reference,
        CASE WHEN %(capture)s
            THEN jsonb_build_object('hold', todo.key, 'user_id', todo.user_id)
            ELSE jsonb_build_object('hold', todo.key) END,
        %(now)s
    FROM todo
    RETURNING {_columns(Transaction)}
), entries AS (
    INSERT INTO credits_entry (transaction_id, account_id, amount)
    SELECT tx.id, todo.account_id, -todo.moved FROM tx, todo WHERE %(capture)s
    UNION ALL
    SELECT tx.id, %(spend)s, todo.moved FROM tx, todo WHERE %(capture)s
)
SELECT locked.outstanding, {_columns(Transaction, "tx.")} FROM locked LEFT JOIN tx ON true
"""  # noqa: S608

_CAPTURE_MEMO = "Charged for delivered images"
_RELEASE_MEMO = "Returned: not delivered"


def _settle(*, capture: bool, hold_key: str, amount: int | None, key: str, memo: str):
    """Capture or release on PostgreSQL. Returns (movement or None, outstanding before)."""
    if not key:
        raise ValueError("Every credit movement needs an idempotency key.")
    rows = _run_statement(
        _SETTLE_SQL,
        {
            "hold_key": hold_key,
            "amount": amount,
            "key": key,
            "capture": capture,
            "kind": Kind.CAPTURE if capture else Kind.RELEASE,
            "memo": memo[:300],
            "default_memo": _CAPTURE_MEMO if capture else _RELEASE_MEMO,
            "now": timezone.now(),
            "spend": account_system(SystemAccount.SPEND).pk if capture else None,
        },
    )
    if rows is None:  # a twin with the same key committed first
        return Movement(transaction=Transaction.objects.get(idempotency_key=key), created=False), 0
    if not rows:
        raise NotFound("No such credit hold.")
    outstanding, *tx = rows[0]
    if tx[0] is not None:
        return Movement(transaction=_from_row(Transaction, tx), created=True), outstanding
    done = Transaction.objects.filter(idempotency_key=key).first()
    if done is not None:
        return Movement(transaction=done, created=False), outstanding
    return None, outstanding


def _hold_settled(outstanding: int) -> Conflict:
    return Conflict(f"Only {outstanding} credits are left on this hold.", code="hold_settled")


def _locked_hold(hold_key: str) -> Hold:
    try:
        return Hold.objects.select_for_update().select_related("account").get(key=hold_key)
    except Hold.DoesNotExist:
        raise NotFound("No such credit hold.") from None


def credits_capture(*, hold_key: str, amount: int, key: str, memo: str = "") -> Movement:
    """Member -> spend out of a hold's held credits, for what was delivered. Never more
    than the hold has left. The memo defaults to the hold's."""
    _check_amount(amount)
    if not _fast_path():
        return _capture_orm(hold_key=hold_key, amount=amount, key=key, memo=memo)
    movement, outstanding = _settle(
        capture=True, hold_key=hold_key, amount=amount, key=key, memo=memo
    )
    if movement is None:
        raise _hold_settled(outstanding)
    return movement


@transaction.atomic
def _capture_orm(*, hold_key: str, amount: int, key: str, memo: str) -> Movement:
    hold = _locked_hold(hold_key)
    done = Transaction.objects.filter(idempotency_key=key).first()
    if done is not None:
        return Movement(transaction=done, created=False)
    if amount > hold.outstanding:
        raise _hold_settled(hold.outstanding)
    movement = _post(
        key=key,
        kind=Kind.CAPTURE,
        category=hold.category,
        legs=[(hold.account, -amount), (account_system(SystemAccount.SPEND), amount)],
        team_id=hold.account.team_id,
        actor_id=hold.account.user_id,
        memo=memo or hold.memo or _CAPTURE_MEMO,
        reference=hold.reference,
        metadata={"hold": hold.key, "user_id": hold.account.user_id},
        from_held=True,
    )
    Hold.objects.filter(pk=hold.pk).update(captured=F("captured") + amount)
    return movement


def credits_release(
    *, hold_key: str, key: str, amount: int | None = None, memo: str = ""
) -> Movement | None:
    """Held -> spendable again, for what was not delivered. `amount=None` releases all that
    is left. Its transaction has no entries (no credits left the account); it records the
    key, so a replay returns it."""
    memo = memo or _RELEASE_MEMO
    # An explicit amount that is not a valid one (0 answers None) keeps the ORM path's
    # order of checks: the hold must exist and a replay wins before the amount is judged.
    plain = amount is None or (type(amount) is int and 0 < amount <= MAX_AMOUNT)
    if not (_fast_path() and plain):
        return _release_orm(hold_key=hold_key, key=key, amount=amount, memo=memo)
    movement, outstanding = _settle(
        capture=False, hold_key=hold_key, amount=amount, key=key, memo=memo
    )
    if movement is None and amount is not None:
        raise _hold_settled(outstanding)
    return movement  # None: nothing was left to release


@transaction.atomic
def _release_orm(*, hold_key: str, key: str, amount: int | None, memo: str) -> Movement | None:
    hold = _locked_hold(hold_key)
    done = Transaction.objects.filter(idempotency_key=key).first()
    if done is not None:
        return Movement(transaction=done, created=False)
    amount = hold.outstanding if amount is None else amount
    if amount == 0:
        return None
    _check_amount(amount)
    if amount > hold.outstanding:
        raise _hold_settled(hold.outstanding)
    movement = _post(
        key=key,
        kind=Kind.RELEASE,
        category=hold.category,
        legs=[],
        team_id=hold.account.team_id,
        actor_id=hold.account.user_id,
        memo=memo,
        reference=hold.reference,
        metadata={"hold": hold.key},
    )
    if movement.created:
        Account.objects.filter(pk=hold.account_id).update(
            held=F("held") - amount, balance=F("balance") + amount
        )
        Hold.objects.filter(pk=hold.pk).update(released=F("released") + amount)
    return movement


# --- staff ---------------------------------------------------------------------------------


@transaction.atomic
def credits_refund(
    *,
    team_id: int,
    user_id: int,
    amount: int,
    key: str,
    actor_id: int,
    reason: str,
    reference: str = "",
    to_pool: bool = False,
) -> Movement:
    """Spend -> member: staff give back credits a job spent. The caller checks the limit.

    `to_pool`: to the team pool instead (the member has left the team: their allocation
    would keep credits nobody can use)."""
    _check_amount(amount)
    if not reason.strip():
        raise ApplicationError("A refund needs a reason.", code="reason_required")
    target = (
        account_pool(team_id=team_id)
        if to_pool
        else account_member(team_id=team_id, user_id=user_id)
    )
    return _post(
        key=key,
        kind=Kind.REFUND,
        category=Category.REFUND,
        legs=[(account_system(SystemAccount.SPEND), -amount), (target, amount)],
        team_id=team_id,
        actor_id=actor_id,
        memo=reason,
        reference=reference,
    )


@transaction.atomic
def credits_adjust(
    *,
    team_id: int,
    amount: int,
    key: str,
    actor_id: int,
    reason: str,
    user_id: int | None = None,
) -> Movement:
    """A manual correction by staff, up (positive) or down (negative), with a reason."""
    if not reason.strip():
        raise ApplicationError("An adjustment needs a reason.", code="reason_required")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
        raise ApplicationError(
            "The adjustment must be a non-zero whole number.", code="invalid_amount"
        )
    _check_amount(abs(amount))
    target = (
        account_member(team_id=team_id, user_id=user_id)
        if user_id is not None
        else account_pool(team_id=team_id)
    )
    return _post(
        key=key,
        kind=Kind.ADJUST,
        category=Category.ADJUSTMENT,
        legs=[(account_system(SystemAccount.ADJUSTMENTS), -amount), (target, amount)],
        team_id=team_id,
        actor_id=actor_id,
        memo=reason,
        replay_must_match=True,
    )


@transaction.atomic
def credits_clawback(
    *, team_id: int, amount: int, key: str, user_id: int | None = None, memo: str = ""
) -> tuple[Movement | None, int]:
    """Take back up to `amount` unspent credits (a refunded purchase); record the rest as owed.

    Returns the movement (None if nothing could be taken) and the amount still owed.
    """
    _check_amount(amount)
    done = Transaction.objects.filter(idempotency_key=key).first()
    if done is not None:
        owed = Debt.objects.filter(transaction=done).values_list("amount", flat=True).first() or 0
        return Movement(transaction=done, created=False), owed
    source = (
        account_member(team_id=team_id, user_id=user_id)
        if user_id is not None
        else account_pool(team_id=team_id)
    )
    available = Account.objects.select_for_update().get(pk=source.pk).balance
    taken = min(available, amount)
    owed = amount - taken
    legs = [(source, -taken), (account_system(SystemAccount.PURCHASES), taken)] if taken else []
    tx_legs = legs or [(account_system(SystemAccount.PURCHASES), 0)]
    movement = _post(
        key=key,
        kind=Kind.CLAWBACK,
        category=Category.PURCHASE,
        legs=tx_legs,
        team_id=team_id,
        memo=memo or "Purchase refunded",
        metadata={"requested": amount, "taken": taken, "owed": owed},
    )
    if owed:
        Debt.objects.create(transaction=movement.transaction, team_id=team_id, amount=owed)
    return movement, owed
