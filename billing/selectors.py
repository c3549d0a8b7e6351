"""Reads for billing: packages, the one price function, payments and the dashboard's rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from billing.models import CreditPackage, Payment
from common.errors import ApplicationError
from credits import selectors as credits_selectors
from credits.services import MAX_AMOUNT

LOG_PAGE_SIZE = 15
PURCHASES_PAGE_SIZE = 10


def package_list() -> QuerySet[CreditPackage]:
    return CreditPackage.objects.filter(active=True).order_by("sort_order", "id")


def package_get_active(*, slug: str) -> CreditPackage:
    """An active package by slug; an unknown or retired one is bad input (400), not a 404."""
    package = CreditPackage.objects.filter(slug=slug or "", active=True).first()
    if package is None:
        raise ApplicationError(f"There is no credit package {slug!r}.", code="invalid_package")
    return package


@dataclass(frozen=True)
class Quote:
    package: CreditPackage
    credits: int
    amount_cents: int
    currency: str


def checkout_quote(*, package: CreditPackage, quantity: int | None = None) -> Quote:
    """The price of a checkout. The only place a price is computed: page, API and Stripe use it.

    A pack has a fixed size and price, so a quantity is refused; a custom package needs a
    whole quantity within its bounds, charged at its price per credit.
    """
    if not package.is_custom:
        if quantity is not None:
            raise ApplicationError(
                f"{package.name} is a fixed pack; a quantity applies only to a custom amount.",
                code="invalid_quantity",
            )
        quote = Quote(package, package.credits, package.price_cents, package.currency)
        return _grantable(quote)
    if quantity is None or isinstance(quantity, bool) or not isinstance(quantity, int):
        raise ApplicationError(
            "Choose how many credits to buy (a whole number).", code="invalid_quantity"
        )
    if not package.min_credits <= quantity <= package.max_credits:
        raise ApplicationError(
            f"Buy between {package.min_credits:,} and {package.max_credits:,} credits.",
            code="invalid_quantity",
        )
    return _grantable(
        Quote(package, quantity, quantity * package.price_per_credit_cents, package.currency)
    )


def _grantable(quote: Quote) -> Quote:
    """Never charge for more than one purchase can credit (a package edited past it)."""
    if quote.credits > MAX_AMOUNT:
        raise ApplicationError(
            f"One purchase can add at most {MAX_AMOUNT:,} credits.", code="invalid_quantity"
        )
    return quote


def format_money(cents: int, currency: str = "usd") -> str:
    symbol = {"usd": "$", "eur": "€", "gbp": "£"}.get(currency.lower())
    amount = f"{cents / 100:,.2f}"
    return f"{symbol}{amount}" if symbol else f"{amount} {currency.upper()}"


# --- payments --------------------------------------------------------------------------


def payments_for_team(*, team_id: int) -> QuerySet[Payment]:
    return (
        Payment.objects.filter(team_id=team_id)
        .select_related("package", "created_by")
        .order_by("-created_at", "-id")
    )


def payment_by_session(*, session_id: str) -> Payment | None:
    return Payment.objects.filter(stripe_session_id=session_id).first()


def paginate(items, *, page: str | int | None, per_page: int) -> Page:
    return Paginator(items, per_page).get_page(page)


# --- the movement log: who moved what, when and why --------------------------------------


@dataclass(frozen=True)
class LogRow:
    when: datetime
    actor: str
    kind: str
    category: str
    amount: int
    source: str
    target: str
    memo: str


def _account_label(account) -> str:
    if account.kind == "pool":
        return "Team pool"
    if account.kind == "member":
        return account.user.display_name if account.user_id else "Member"
    return {
        "purchases": "Stripe",
        "promotions": "Bonus",
        "holds": "Held for a job",
        "spend": "Spent",
        "adjustments": "Staff adjustment",
    }.get(account.system_code, account.system_code)


def _log_row(tx) -> LogRow:
    entries = list(tx.entries.all())
    debits = [e for e in entries if e.amount < 0]
    credits_ = [e for e in entries if e.amount > 0]
    amount = sum(e.amount for e in credits_)
    source = ", ".join(_account_label(e.account) for e in debits)
    target = ", ".join(
        f"{_account_label(e.account)}" + (f" ({e.amount})" if len(credits_) > 1 else "")
        for e in credits_
    )
    if tx.actor_id:
        actor = tx.actor.display_name
    elif tx.category == "purchase":
        actor = "Stripe"
    else:
        actor = "System"
    return LogRow(
        when=tx.created_at,
        actor=actor,
        kind=tx.get_kind_display(),
        category=tx.get_category_display(),
        amount=amount,
        source=source or "—",
        target=target or "—",
        memo=tx.memo,
    )


def team_movement_log(*, team, page: str | int | None) -> tuple[Page, list[LogRow]]:
    """One page of the team's audit trail (credits.selectors.history_for_team), newest first."""
    found = paginate(
        credits_selectors.history_for_team(team_id=team.id), page=page, per_page=LOG_PAGE_SIZE
    )
    rows = [_log_row(tx) for tx in found.object_list]
    return found, rows


@dataclass(frozen=True)
class MemberLogRow:
    when: datetime
    what: str
    amount: int
    memo: str


def member_history(*, team, user, page: str | int | None) -> tuple[Page, list[MemberLogRow]]:
    """One page of a member's own ledger lines in one team."""
    entries = credits_selectors.history_for_user(user_id=user.id).filter(account__team_id=team.id)
    found = paginate(entries, page=page, per_page=LOG_PAGE_SIZE)
    rows = [
        MemberLogRow(
            when=e.transaction.created_at,
            what=e.transaction.get_kind_display(),
            amount=e.amount,
            memo=e.transaction.memo,
        )
        for e in found.object_list
    ]
    return found, rows
