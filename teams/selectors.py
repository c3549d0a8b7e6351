"""Reads of teams, always through what the actor may see."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db.models import QuerySet

from common.compiled import CompiledQuery
from common.errors import Forbidden, NotFound, object_id
from credits import selectors as credits_selectors
from teams.models import (
    Invitation,
    InvitationStatus,
    InviteLink,
    Membership,
    Role,
    Team,
    TeamApiKey,
    TeamRemoval,
)


def membership_get(*, user, team_id: int | str) -> Membership:
    """The actor's membership of a team, or NotFound (missing and not-yours look the same)."""
    try:
        return Membership.objects.select_related("team").get(team_id=object_id(team_id), user=user)
    except (Membership.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such team.") from None


def team_get_for_member(*, user, team_id: int | str) -> Team:
    return membership_get(user=user, team_id=team_id).team


def team_get_for_admin(*, user, team_id: int | str) -> Team:
    """The team if the actor administers it; a plain member gets Forbidden, others NotFound."""
    membership = membership_get(user=user, team_id=team_id)
    if membership.role != Role.ADMIN:
        raise Forbidden("Only a team admin can do this.")
    return membership.team


def is_team_admin(*, user, team_id: int) -> bool:
    return Membership.objects.filter(team_id=team_id, user=user, role=Role.ADMIN).exists()


def is_team_member(*, user_id: int, team_id: int) -> bool:
    return Membership.objects.filter(team_id=team_id, user_id=user_id).exists()


def team_admin_emails(*, team_id: int) -> list[str]:
    return list(
        Membership.objects.filter(team_id=team_id, role=Role.ADMIN)
        .order_by("id")
        .values_list("user__email", flat=True)
    )


def team_get(*, team_id) -> Team:
    """Any team, by id, for staff (who act on every team); NotFound for a bad id."""
    try:
        return Team.objects.get(pk=object_id(team_id))
    except (Team.DoesNotExist, NotFound):
        raise NotFound("No such team.") from None


def memberships_for_user(*, user) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .select_related("team")
        .order_by("-team__is_personal", "team__name", "team_id")
    )


def membership_current(*, memberships: list[Membership], chosen_team_id) -> Membership | None:
    """The team the web pages act on: the switcher's choice while the user still belongs to
    it, else their first shared team (where an admin hands out credits), else their own."""
    chosen = next((m for m in memberships if m.team_id == chosen_team_id), None)
    if chosen is not None:
        return chosen
    return next((m for m in memberships if not m.team.is_personal), None) or next(
        iter(memberships), None
    )


def team_id_current(*, user, chosen_team_id) -> int | None:
    current = membership_current(
        memberships=list(memberships_for_user(user=user)), chosen_team_id=chosen_team_id
    )
    return current.team_id if current else None


def team_memberships(*, team: Team) -> QuerySet[Membership]:
    return Membership.objects.filter(team=team).select_related("user").order_by("id")


def team_pending_invitations(*, team: Team) -> QuerySet[Invitation]:
    return Invitation.objects.filter(team=team, status=InvitationStatus.PENDING).select_related(
        "invited_by"
    )


def team_removals(*, team: Team) -> QuerySet[TeamRemoval]:
    """The people the team's admins removed, most recent first (invite links refuse them)."""
    return TeamRemoval.objects.filter(team=team).select_related("user", "removed_by")


# Read by every member call that names no team (config, estimate, submit): compiled once.
_PERSONAL_TEAM = CompiledQuery(
    lambda user_id: Team.objects.filter(is_personal=True, memberships__user=user_id).order_by("pk")[
        :1
    ],
    "user_id",
)


def team_personal_for_user(*, user) -> Team | None:
    return _PERSONAL_TEAM.first(user_id=user.pk)


@dataclass(frozen=True)
class MemberCredits:
    membership: Membership
    balance: int | None
    spent: int | None
    held: int | None = None  # set aside by the member's running jobs


@dataclass(frozen=True)
class TeamCreditOverview:
    team: Team
    pool: int
    members: list[MemberCredits]
    low_balance: bool

    @property
    def allocated(self) -> int:
        return sum(m.balance for m in self.members)


def team_members_visible(*, membership: Membership) -> list[MemberCredits]:
    """Members with role; balances and spend for an admin, and each member their own."""
    rows = team_credit_overview(team=membership.team).members
    if membership.is_admin:
        return rows
    return [
        row
        if row.membership.user_id == membership.user_id
        else MemberCredits(row.membership, None, None)
        for row in rows
    ]


def team_credit_overview(*, team: Team) -> TeamCreditOverview:
    """Pool, each member's allocation and spend: a fixed handful of queries, any team size."""
    memberships = list(team_memberships(team=team))
    allocations = credits_selectors.allocations_for_team(team_id=team.id)
    spent = credits_selectors.spent_by_team_members(team_id=team.id)
    pool = credits_selectors.balance_pool(team_id=team.id)
    members = []
    for m in memberships:
        allocation = allocations.get(m.user_id, credits_selectors.NO_ALLOCATION)
        members.append(
            MemberCredits(m, allocation.balance, spent.get(m.user_id, 0), allocation.held)
        )
    total = pool + sum(m.balance for m in members)
    return TeamCreditOverview(
        team=team,
        pool=pool,
        members=members,
        low_balance=credits_selectors.is_low(total),
    )


def invitation_by_key(*, key: str) -> Invitation | None:
    """The invitation behind a link; the key itself is the capability."""
    return Invitation.objects.select_related("team", "invited_by").filter(key=key).first()


def team_invite_links(*, team: Team) -> QuerySet[InviteLink]:
    """The links an admin can still turn off: not revoked, newest first (expired ones
    stay listed until revoked, so the admin sees why a link stopped working)."""
    return InviteLink.objects.filter(team=team, revoked_at__isnull=True).order_by("-id")


def invite_link_by_key(*, key: str) -> InviteLink | None:
    """The link behind a URL; the key itself is the capability."""
    return InviteLink.objects.select_related("team").filter(key=key).first()


# --- team API keys ----------------------------------------------------------------------------


def api_key_hash(plaintext: str) -> str:
    """The stored form of a key: sha256 hex. Keys carry 256 random bits, so no salt or
    slow hash is needed, and looking up by hash needs no constant-time compare."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


def team_api_key_list(*, user, team_id: int | str) -> QuerySet[TeamApiKey]:
    """A team's keys (active and revoked), for its admins only."""
    team = team_get_for_admin(user=user, team_id=team_id)
    return TeamApiKey.objects.filter(team=team).select_related("created_by").order_by("-id")


def team_api_key_authenticate(*, plaintext: str) -> TeamApiKey | None:
    """The active key behind a plaintext, if its creator still administers its team.

    A key acts as its creator, so a creator who left the team or lost the admin role takes
    the key's power with them; the key row itself is kept for the admins' list."""
    if not plaintext.startswith("ps_") or len(plaintext) > 200:
        return None
    key = (
        TeamApiKey.objects.select_related("team", "created_by")
        .filter(key_hash=api_key_hash(plaintext), revoked_at__isnull=True)
        .first()
    )
    if key is None or not key.created_by.is_active:
        return None
    still_admin = Membership.objects.filter(
        team_id=key.team_id, user_id=key.created_by_id, role=Role.ADMIN
    ).exists()
    return key if still_admin else None
