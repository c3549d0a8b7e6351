from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from allauth.account.models import EmailAddress

from common.compiled import CompiledQuery
from credits import selectors as credits_selectors
from headshots import selectors as headshots_selectors
from teams import selectors as teams_selectors

from .models import User

if TYPE_CHECKING:
    from teams.models import Membership


@dataclass(frozen=True)
class TeamBalance:
    membership: Membership
    balance: int
    held: int  # set aside by the user's running jobs in that team


@dataclass(frozen=True)
class UserSummary:
    user: object
    teams: list[TeamBalance]
    credits_spent: int
    headshots_generated: int

    @property
    def total_balance(self) -> int:
        return sum(t.balance for t in self.teams)


def user_summary(*, user) -> UserSummary:
    """What `GET /api/v1/me` shows: the user, each team with role and own balance, spend."""
    allocations = credits_selectors.allocations_for_user(user_id=user.id)
    teams = []
    for m in teams_selectors.memberships_for_user(user=user):
        allocation = allocations.get(m.team_id, credits_selectors.NO_ALLOCATION)
        teams.append(TeamBalance(m, allocation.balance, allocation.held))
    return UserSummary(
        user=user,
        teams=teams,
        credits_spent=credits_selectors.spent_by_user(user_id=user.id),
        headshots_generated=headshots_selectors.headshots_generated(user=user),
    )


# Every API call reads the user its session names: compiled once (common.compiled).
_SESSION_USER = CompiledQuery(lambda user_id: User.objects.filter(pk=user_id), "user_id")


def user_for_session(*, user_id: int) -> User | None:
    """The user a login session names, active or not (the auth backend decides)."""
    return _SESSION_USER.first(user_id=user_id)


def email_verified(*, user) -> bool:
    """Whether the user proved they own their sign-in address (allauth's confirmation)."""
    return EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()
