"""Reads of the ledger: balances, histories, the team overview and the audit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate

from common.periods import Spans, within
from credits.models import (
    Account,
    AccountKind,
    Category,
    Entry,
    Kind,
    SystemAccount,
    Transaction,
)


@dataclass(frozen=True)
class Allocation:
    balance: int  # what the member can spend now
    held: int  # set aside by jobs still running: charged per delivered image, the rest returns


NO_ALLOCATION = Allocation(0, 0)  # a member with no account yet


def allocation_member(*, team_id: int, user_id: int) -> Allocation:
    row = (
        Account.objects.filter(kind=AccountKind.MEMBER, team_id=team_id, user_id=user_id)
        .values_list("balance", "held")
        .first()
    )
    return Allocation(*row) if row else NO_ALLOCATION


def balance_member(*, team_id: int, user_id: int) -> int:
    return allocation_member(team_id=team_id, user_id=user_id).balance


def balance_pool(*, team_id: int) -> int:
    return (
        Account.objects.filter(kind=AccountKind.POOL, team_id=team_id)
        .values_list("balance", flat=True)
        .first()
        or 0
    )


def allocations_for_user(*, user_id: int) -> dict[int, Allocation]:
    """team id -> the user's own allocation there, spendable and held."""
    return _allocations(Q(user_id=user_id), by="team_id")


def allocations_for_team(*, team_id: int) -> dict[int, Allocation]:
    """user id -> allocation (spendable and held), for every member account of the team."""
    return _allocations(Q(team_id=team_id), by="user_id")


def _allocations(where: Q, *, by: str) -> dict[int, Allocation]:
    rows = Account.objects.filter(where, kind=AccountKind.MEMBER).values_list(by, "balance", "held")
    return {key: Allocation(balance, held) for key, balance, held in rows}


def is_low(credits: int) -> bool:
    """The low-balance rule: the warning on the pages, the low-credit e-mail."""
    return credits < settings.CREDITS_LOW_BALANCE_WARNING


def team_totals(*, team_ids: Iterable[int] | QuerySet) -> dict[int, int]:
    """team id -> the credits its people can spend: the pool plus every member's allocation
    (one grouped query). A team with no account yet is absent: it holds nothing."""
    rows = (
        Account.objects.filter(
            kind__in=[AccountKind.POOL, AccountKind.MEMBER], team_id__in=team_ids
        )
        .values("team_id")
        .annotate(total=Sum("balance"))
        .values_list("team_id", "total")
    )
    return dict(rows)


def spent_by_team_members(*, team_id: int) -> dict[int, int]:
    """user id -> credits spent (captured minus refunded) in the team."""
    rows = (
        Transaction.objects.filter(team_id=team_id, kind__in=[Kind.CAPTURE, Kind.REFUND])
        .values("actor_id", "kind")
        .annotate(total=Sum("entries__amount", filter=Q(entries__amount__gt=0)))
    )
    spent: dict[int, int] = {}
    for row in rows:
        sign = 1 if row["kind"] == Kind.CAPTURE else -1
        spent[row["actor_id"]] = spent.get(row["actor_id"], 0) + sign * (row["total"] or 0)
    return spent


def spent_by_user(*, user_id: int) -> int:
    """Credits a user spent overall: what was captured, less what staff refunded."""
    captured = Entry.objects.filter(
        transaction__kind=Kind.CAPTURE,
        transaction__actor_id=user_id,
        account__system_code=SystemAccount.SPEND,
    ).aggregate(total=Coalesce(Sum("amount"), 0))["total"]
    refunded = Entry.objects.filter(
        transaction__kind=Kind.REFUND, account__kind=AccountKind.MEMBER, account__user_id=user_id
    ).aggregate(total=Coalesce(Sum("amount"), 0))["total"]
    return captured - refunded


HISTORY_TYPES = [c.value for c in Category]


def history_for_user(*, user_id: int, category: str | None = None) -> QuerySet[Entry]:
    """A user's own ledger lines (entries on their allocations), newest first.

    Filtered on the member's account ids, read first (one small query): joined, or as a
    subquery, PostgreSQL walks every entry of the ledger backwards by transaction id at
    size instead of reading the member's lines by their (account, transaction) index.
    """
    accounts = list(
        Account.objects.filter(kind=AccountKind.MEMBER, user_id=user_id).values_list(
            "id", flat=True
        )
    )
    qs = (
        Entry.objects.filter(account_id__in=accounts)
        .select_related("transaction", "account")
        .order_by("-transaction_id", "-id")
    )
    if category:
        qs = qs.filter(transaction__category=category)
    return qs


def history_for_team(*, team_id: int) -> QuerySet[Transaction]:
    """The team's audit trail: every movement touching the team, with who did it.

    Captures and releases show only when they moved a team account's credits: a capture
    does now (member -> spend); one from before reservations moved holds -> spend, and a
    release only gives held credits back to the account that held them.
    """
    on_team_account = Exists(
        Entry.objects.filter(transaction=OuterRef("pk")).exclude(account__kind=AccountKind.SYSTEM)
    )
    return (
        Transaction.objects.filter(team_id=team_id)
        .filter(on_team_account | ~Q(kind__in=[Kind.CAPTURE, Kind.RELEASE]))
        .select_related("actor")
        .prefetch_related("entries__account__user")
        .order_by("-id")
    )


@dataclass
class AuditReport:
    problems: list[str] = field(default_factory=list)
    accounts: int = 0
    transactions: int = 0

    @property
    def clean(self) -> bool:
        return not self.problems


def ledger_audit() -> AuditReport:
    """Check the ledger's invariants with a fixed number of aggregate queries."""
    report = AuditReport()
    report.transactions = Transaction.objects.count()
    report.accounts = Account.objects.count()

    unbalanced = (
        Transaction.objects.annotate(total=Coalesce(Sum("entries__amount"), 0))
        .exclude(total=0)
        .values_list("idempotency_key", "total")[:20]
    )
    for key, total in unbalanced:
        report.problems.append(f"transaction {key} does not balance (sum {total})")

    grand_total = Entry.objects.aggregate(total=Coalesce(Sum("amount"), 0))["total"]
    if grand_total != 0:
        report.problems.append(f"the sum of all entries is {grand_total}, not 0")

    # A member's entries sum to what it can spend plus what its open holds set aside.
    drifted = (
        Account.objects.exclude(kind=AccountKind.SYSTEM)
        .annotate(total=Coalesce(Sum("entries__amount"), 0))
        .exclude(total=F("balance") + F("held"))
        .values_list("pk", "balance", "held", "total")[:20]
    )
    for pk, balance, held, total in drifted:
        report.problems.append(
            f"account {pk} caches {balance} (+{held} held) but its entries sum to {total}"
        )

    negative = (
        Account.objects.exclude(kind=AccountKind.SYSTEM)
        .filter(Q(balance__lt=0) | Q(held__lt=0))
        .count()
    )
    if negative:
        report.problems.append(f"{negative} accounts have a negative balance or held amount")

    misheld = (
        Account.objects.annotate(
            open_holds=Coalesce(
                Sum(F("holds__amount") - F("holds__captured") - F("holds__released")), 0
            )
        )
        .exclude(held=F("open_holds"))
        .values_list("pk", "held", "open_holds")[:20]
    )
    for pk, held, open_holds in misheld:
        report.problems.append(
            f"account {pk} holds {held} but its open holds add up to {open_holds}"
        )

    # Holds from before reservations were posted to the holds account; migration 0005
    # returned what was still open, so it must stay empty.
    old_holds = Entry.objects.filter(
        account__kind=AccountKind.SYSTEM, account__system_code=SystemAccount.HOLDS
    ).aggregate(total=Coalesce(Sum("amount"), 0))["total"]
    if old_holds:
        report.problems.append(f"the holds account has {old_holds}, not 0")
    return report


# The staff report's credits: each movement's positive legs (the member's grant, spend's
# capture, the member's refund, purchases' clawback); grants only when sold.
_REPORTED_ENTRIES = Q(amount__gt=0) & (
    Q(transaction__kind=Kind.GRANT, transaction__category=Category.PURCHASE)
    | Q(transaction__kind__in=[Kind.CAPTURE, Kind.REFUND, Kind.CLAWBACK])
)


def credits_reported(*, spans: Spans, by_day: bool) -> list[dict]:
    """Credits sold, captured, refunded and clawed back within the spans: rows of `kind`,
    `total` (and `day`, in the current time zone, when `by_day`). One query."""
    day = ["day"] if by_day else []
    return list(
        Entry.objects.filter(_REPORTED_ENTRIES, within(spans, "transaction__created_at"))
        .annotate(day=TruncDate("transaction__created_at"), kind=F("transaction__kind"))
        .values(*day, "kind")
        .annotate(total=Sum("amount"))
        .order_by()
    )
