"""Writes on teams: creation, roles, removal and invitations."""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import slugify

from accounts import selectors as accounts_selectors
from common.errors import (
    ApplicationError,
    Conflict,
    Forbidden,
    InsufficientCredits,
    NotFound,
    object_id,
)
from common.links import site_url
from common.text import clean_text
from credits import services as credits_services
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
from teams.selectors import api_key_hash, team_get_for_admin

logger = logging.getLogger(__name__)

NAME_MAX_LENGTH = 100  # the name columns of Team and TeamApiKey


def _unique_slug(name: str) -> str:
    base = slugify(name)[:100] or "team"
    slug, n = base, 1
    while Team.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def team_create(*, name: str, creator) -> Team:
    """A shared team; its creator becomes its first admin."""
    name = clean_text(
        name, label="team name", limit=NAME_MAX_LENGTH, required_message="A team needs a name."
    )
    team = Team(name=name, slug=_unique_slug(name), created_by=creator)
    team.full_clean()
    team.save()
    Membership.objects.create(team=team, user=creator, role=Role.ADMIN)
    return team


@transaction.atomic
def team_create_personal(*, user) -> Team:
    """The team of one every user has; fetched if it already exists."""
    existing = Team.objects.filter(is_personal=True, created_by=user).first()
    if existing is not None:
        return existing
    name = f"{user.display_name}'s studio"
    team = Team.objects.create(
        name=name,
        slug=_unique_slug(f"{user.display_name}-personal"),
        is_personal=True,
        created_by=user,
    )
    Membership.objects.create(team=team, user=user, role=Role.ADMIN)
    return team


def _membership_of(team: Team, user_id: int) -> Membership:
    try:
        return Membership.objects.select_for_update().get(team=team, user_id=object_id(user_id))
    except (Membership.DoesNotExist, ValueError, TypeError):
        raise NotFound("That person is not a member of this team.") from None


def _other_admins(team: Team, user_id: int) -> int:
    return team.memberships.filter(role=Role.ADMIN).exclude(user_id=user_id).count()


@transaction.atomic
def membership_set_role(*, actor, team_id: int, user_id: int, role: str) -> Membership:
    team = team_get_for_admin(user=actor, team_id=team_id)
    if role not in Role.values:
        raise ApplicationError(
            f"Role must be one of: {', '.join(Role.values)}.", code="invalid_role"
        )
    # Lock the team's memberships so two demotions cannot both pass the last-admin check.
    list(Membership.objects.select_for_update().filter(team=team).order_by("pk"))
    membership = _membership_of(team, user_id)
    if role == Role.MEMBER and membership.role == Role.ADMIN and not _other_admins(team, user_id):
        raise Conflict("A team needs at least one admin.", code="last_admin")
    if role == Role.MEMBER:
        _invite_links_turn_off(team=team, created_by_id=membership.user_id)
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    return membership


def _invite_links_turn_off(*, team: Team, created_by_id: int) -> None:
    """An admin who steps down or leaves takes their open links with them: a link keeps
    letting people in (and handing out the pool) in its maker's name."""
    now = timezone.now()
    InviteLink.objects.filter(
        team=team, created_by_id=created_by_id, revoked_at__isnull=True
    ).update(revoked_at=now, updated_at=now)


@transaction.atomic
def membership_remove(*, actor, team_id: int, user_id: int) -> None:
    """Remove a member; their unspent allocation goes back to the team pool."""
    team = team_get_for_admin(user=actor, team_id=team_id)
    if team.is_personal:
        raise Conflict("You cannot leave your personal team.", code="personal_team")
    list(Membership.objects.select_for_update().filter(team=team).order_by("pk"))
    membership = _membership_of(team, user_id)
    if membership.role == Role.ADMIN and not _other_admins(team, user_id):
        raise Conflict("A team needs at least one admin.", code="last_admin")
    _invite_links_turn_off(team=team, created_by_id=membership.user_id)
    # Refused (still_running) while a job holds part of the allocation.
    credits_services.credits_return_to_pool(
        team_id=team.id,
        user_id=user_id,
        key=f"leave:{membership.pk}:{timezone.now().isoformat()}",
        actor_id=actor.id,
    )
    membership.delete()
    if membership.user_id != actor.id:  # an admin leaving on their own may come back
        _removal_record(team=team, user=membership.user, actor=actor)


def _removal_record(*, team: Team, user, actor) -> None:
    """Keep someone an admin removed out: invite links refuse them, and an invitation sent
    before the removal no longer lets them in. Only an invitation sent after it does."""
    now = timezone.now()
    TeamRemoval.objects.update_or_create(
        team=team, user=user, defaults={"removed_by": actor, "removed_at": now}
    )
    Invitation.objects.filter(
        team=team, email__iexact=user.email, status=InvitationStatus.PENDING
    ).update(status=InvitationStatus.REVOKED, updated_at=now)


@dataclass(frozen=True)
class TeamJoin:
    """What accepting an invitation or following an invite link did."""

    membership: Membership
    joined: bool  # False: already a member, nothing changed
    credits_given: int
    credits_offered: int


STARTING_CREDITS_MAX = 100  # an invitation's or invite link's credits for each newcomer


def invitation_accept_url(invitation: Invitation) -> str:
    return site_url("teams:invitation", invitation.key)


@transaction.atomic
def invitation_create(
    *, actor, team_id: int, email: str, role: str = Role.MEMBER, credits: int = 0
) -> Invitation:
    """Invite an e-mail address; the e-mail carries the accept link. `credits` are given
    from the pool when the invitation is accepted, while the pool has them."""
    team = team_get_for_admin(user=actor, team_id=team_id)
    if team.is_personal:
        raise Conflict(
            "A personal team is a team of one. Create a team to invite people.",
            code="personal_team",
        )
    email = (email or "").strip().lower()
    if role not in Role.values:
        raise ApplicationError(
            f"Role must be one of: {', '.join(Role.values)}.", code="invalid_role"
        )
    _bounded(
        credits,
        low=0,
        high=STARTING_CREDITS_MAX,
        message=f"Starting credits must be between 0 and {STARTING_CREDITS_MAX}.",
        code="invalid_credits",
    )
    if team.memberships.filter(user__email__iexact=email).exists():
        raise Conflict(f"{email} is already a member of this team.", code="already_member")
    now = timezone.now()
    # An expired invitation no longer blocks a fresh one.
    Invitation.objects.filter(
        team=team, email__iexact=email, status=InvitationStatus.PENDING, expires_at__lte=now
    ).update(status=InvitationStatus.REVOKED, updated_at=now)
    invitation = Invitation(
        team=team,
        email=email,
        role=role,
        credits=credits or 0,
        invited_by=actor,
        expires_at=now + settings.INVITATION_TTL,
    )
    invitation.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            invitation.save()
    except IntegrityError:
        raise Conflict(
            f"{email} already has a pending invitation.", code="already_invited"
        ) from None
    transaction.on_commit(lambda: _send_invitation_email(invitation))
    return invitation


def _send_invitation_email(invitation: Invitation) -> None:
    inviter = invitation.invited_by.display_name if invitation.invited_by else "A team admin"
    send_mail(
        subject=f"You are invited to join {invitation.team.name}",
        message=(
            f"{inviter} invited you to join the team {invitation.team.name} on Portrait Studio "
            f"as {invitation.get_role_display().lower()}"
            + (
                f", with {invitation.credits} credits to start while the team's pool has them"
                if invitation.credits
                else ""
            )
            + ".\n\n"
            f"Accept the invitation (sign in or sign up with {invitation.email}):\n"
            f"{invitation_accept_url(invitation)}\n\n"
            f"The link expires on {invitation.expires_at:%d %B %Y}."
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )


@transaction.atomic
def invitation_revoke(*, actor, team_id: int, invitation_id: int) -> None:
    team = team_get_for_admin(user=actor, team_id=team_id)
    updated = Invitation.objects.filter(
        pk=object_id(invitation_id), team=team, status=InvitationStatus.PENDING
    ).update(status=InvitationStatus.REVOKED, updated_at=timezone.now())
    if not updated:
        raise NotFound("No such pending invitation.")


@transaction.atomic
def invitation_accept(*, key: str, user) -> TeamJoin:
    """Join the team, signed in as the address the invitation was sent to, with the
    invitation's starting credits from the pool while it has them."""
    try:
        invitation = Invitation.objects.select_for_update().select_related("team").get(key=key)
    except Invitation.DoesNotExist:
        raise NotFound("This invitation link is not valid.") from None
    if invitation.status == InvitationStatus.REVOKED:
        raise Conflict("This invitation was withdrawn.", code="invitation_revoked")
    if invitation.status == InvitationStatus.ACCEPTED:
        if invitation.accepted_by_id == user.id:
            membership = Membership.objects.get(team=invitation.team, user=user)
            return TeamJoin(membership, joined=False, credits_given=0, credits_offered=0)
        raise Conflict("This invitation was already used.", code="invitation_used")
    if invitation.expires_at <= timezone.now():
        raise ApplicationError(
            "This invitation has expired. Ask the team admin for a new one.",
            code="invitation_expired",
            status=410,
        )
    if invitation.email.lower() != user.email.lower():
        raise Forbidden(
            f"This invitation was sent to {invitation.email}. Sign in with that address to accept it.",
            code="wrong_account",
        )
    membership, joined = Membership.objects.get_or_create(
        team=invitation.team, user=user, defaults={"role": invitation.role}
    )
    TeamRemoval.objects.filter(team=invitation.team, user=user).delete()  # asked back by name
    invitation.status = InvitationStatus.ACCEPTED
    invitation.accepted_by = user
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["status", "accepted_by", "accepted_at", "updated_at"])
    offered = invitation.credits if joined else 0
    given = (
        _starting_credits(
            team_id=invitation.team_id,
            user_id=user.id,
            amount=offered,
            key=f"invitation:{invitation.pk}",
            actor_id=invitation.invited_by_id,
            memo="Starting credits from an invitation",
        )
        if offered
        else 0
    )
    return TeamJoin(membership, joined=joined, credits_given=given, credits_offered=offered)


# --- open invite links -----------------------------------------------------------------------

INVITE_LINK_MAX_DAYS = 90
INVITE_LINK_MAX_USES = 1000
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


def invite_link_url(link: InviteLink) -> str:
    return site_url("teams:join", link.key)


def _clean_domain(value: str) -> str:
    domain = clean_text(value, label="e-mail domain", limit=253).lower()
    domain = domain.removeprefix("@")
    if domain and not _DOMAIN.match(domain):
        raise ApplicationError(
            "Enter an e-mail domain like example.com, or leave it empty for anyone.",
            code="invalid_domain",
        )
    return domain


def _bounded(value: int | None, *, low: int, high: int, message: str, code: str) -> None:
    if value is not None and (isinstance(value, bool) or not low <= value <= high):
        raise ApplicationError(message, code=code)


@transaction.atomic
def invite_link_create(
    *,
    actor,
    team_id: int,
    allowed_domain: str = "",
    max_uses: int | None = None,
    days: int = 7,
    credits_each: int = 0,
) -> InviteLink:
    """A link anyone can use to join as a member, within a domain, a use cap and an expiry;
    each newcomer gets `credits_each` from the pool while the pool has them."""
    team = team_get_for_admin(user=actor, team_id=team_id)
    if team.is_personal:
        raise Conflict(
            "A personal team is a team of one. Create a team to invite people.",
            code="personal_team",
        )
    _bounded(
        max_uses,
        low=1,
        high=INVITE_LINK_MAX_USES,
        message=f"A link can be used 1 to {INVITE_LINK_MAX_USES} times, or without a cap.",
        code="invalid_max_uses",
    )
    _bounded(
        days,
        low=1,
        high=INVITE_LINK_MAX_DAYS,
        message=f"A link can stay open 1 to {INVITE_LINK_MAX_DAYS} days.",
        code="invalid_days",
    )
    _bounded(
        credits_each,
        low=0,
        high=STARTING_CREDITS_MAX,
        message=f"Each newcomer can get 0 to {STARTING_CREDITS_MAX} credits.",
        code="invalid_credits_each",
    )
    return InviteLink.objects.create(
        team=team,
        allowed_domain=_clean_domain(allowed_domain),
        max_uses=max_uses,
        credits_each=credits_each or 0,
        expires_at=timezone.now() + timedelta(days=days),
        created_by=actor,
    )


@transaction.atomic
def invite_link_revoke(*, actor, team_id: int, link_id: int) -> None:
    team = team_get_for_admin(user=actor, team_id=team_id)
    updated = InviteLink.objects.filter(
        team=team, pk=object_id(link_id), revoked_at__isnull=True
    ).update(revoked_at=timezone.now(), updated_at=timezone.now())
    if not updated and not InviteLink.objects.filter(team=team, pk=object_id(link_id)).exists():
        raise NotFound("No such invite link.")


@transaction.atomic
def invite_link_join(*, key: str, user) -> TeamJoin:
    """Join the link's team as a member. The link's row is locked, so its last use goes to
    one person; joining a team you are in changes nothing and spends no use."""
    link = (
        InviteLink.objects.select_for_update(of=("self",))
        .select_related("team")
        .filter(key=key)
        .first()
    )
    if link is None:
        raise NotFound("This invite link is not valid.")
    existing = Membership.objects.filter(team=link.team, user=user).first()
    if existing is not None:
        return TeamJoin(existing, joined=False, credits_given=0, credits_offered=0)
    refusal = invite_link_refusal(link=link, user=user)
    if refusal is not None:
        raise refusal
    try:
        with transaction.atomic():
            membership = Membership.objects.create(team=link.team, user=user, role=Role.MEMBER)
    except IntegrityError:  # joined the same moment by another way (an e-mail invitation)
        existing = Membership.objects.get(team=link.team, user=user)
        return TeamJoin(existing, joined=False, credits_given=0, credits_offered=0)
    InviteLink.objects.filter(pk=link.pk).update(uses=F("uses") + 1, updated_at=timezone.now())
    given = (
        _starting_credits(
            team_id=link.team_id,
            user_id=user.id,
            amount=link.credits_each,
            key=f"invite-link:{link.pk}:user:{user.id}",
            actor_id=link.created_by_id,
            memo="Starting credits from an invite link",
        )
        if link.credits_each
        else 0
    )
    return TeamJoin(membership, joined=True, credits_given=given, credits_offered=link.credits_each)


def _starting_credits(
    *, team_id: int, user_id: int, amount: int, key: str, actor_id: int | None, memo: str
) -> int:
    """A newcomer's credits from the pool; what was given. A pool short of them does not
    stop the join, and the key (the invitation, or the link and the person) makes someone
    who left and comes back the same way get nothing twice."""
    try:
        with transaction.atomic():
            movement = credits_services.credits_allocate(
                team_id=team_id,
                user_id=user_id,
                amount=amount,
                key=key,
                actor_id=actor_id,
                memo=memo,
            )
    except InsufficientCredits:
        logger.info("%s: the pool could not give %s credits", key, amount)
        return 0
    return amount if movement.created else 0


def invite_link_refusal(*, link: InviteLink, user) -> ApplicationError | None:
    """Why this user cannot join through this link (None if they can): the join page shows
    it before anyone presses the button, and the join raises it."""
    if link.revoked_at is not None:
        return Conflict(
            "This invite link was turned off. Ask a team admin for a new one.",
            code="invite_link_revoked",
        )
    if link.is_expired:
        return ApplicationError(
            "This invite link has expired. Ask a team admin for a new one.",
            code="invite_link_expired",
            status=410,
        )
    if TeamRemoval.objects.filter(team_id=link.team_id, user_id=user.id).exists():
        return Forbidden(
            f"A team admin removed you from {link.team.name}, so this link cannot add you "
            "again. Ask a team admin to invite you by e-mail.",
            code="removed_from_team",
        )
    if link.max_uses is not None and link.uses >= link.max_uses:
        return Conflict(
            "This invite link has been used as many times as its admin allowed. "
            "Ask a team admin for a new one.",
            code="invite_link_used_up",
        )
    if not link.allowed_domain:
        return None
    if user.email.rsplit("@", 1)[-1].lower() != link.allowed_domain:
        return Forbidden(
            f"This link is for people with an @{link.allowed_domain} address. "
            f"You are signed in as {user.email}.",
            code="wrong_domain",
        )
    if not accounts_selectors.email_verified(user=user):
        # Anyone can sign up as someone@their-company.com: only a confirmed address counts.
        return Forbidden(
            f"Confirm that {user.email} is yours first: open the link in the e-mail we sent "
            "you (or send it again from your e-mail settings), then come back.",
            code="email_unverified",
        )
    return None


# --- team credits: the admin moves credits between the pool and members ------------------


def _require_members(team: Team, *user_ids) -> None:
    """Under the memberships' row locks (taken in one order, like a removal's), held to
    the caller's commit: a removal running at the same time either waits for the credits
    to land (and returns them to the pool) or has already deleted the row (and nothing is
    paid to the person who left)."""
    wanted = {object_id(user_id) for user_id in user_ids}
    found = set(
        Membership.objects.select_for_update()
        .filter(team=team, user_id__in=wanted)
        .order_by("pk")
        .values_list("user_id", flat=True)
    )
    if found != wanted:
        raise NotFound("That person is not a member of this team.")


@transaction.atomic
def team_credits_allocate(*, actor, team_id: int, user_id: int, amount: int, key: str):
    team = team_get_for_admin(user=actor, team_id=team_id)
    _require_members(team, user_id)
    return credits_services.credits_allocate(
        team_id=team.id,
        user_id=user_id,
        amount=amount,
        key=f"allocate:{team.id}:{key}",
        actor_id=actor.id,
    )


@transaction.atomic
def team_credits_auto_distribute(*, actor, team_id: int, key: str):
    team = team_get_for_admin(user=actor, team_id=team_id)
    # Locked like _require_members': nobody removed meanwhile gets a share.
    user_ids = list(
        team.memberships.select_for_update().order_by("pk").values_list("user_id", flat=True)
    )
    return credits_services.credits_auto_distribute(
        team_id=team.id, user_ids=user_ids, key=f"distribute:{team.id}:{key}", actor_id=actor.id
    )


@transaction.atomic
def team_credits_reassign(
    *, actor, team_id: int, from_user_id: int, to_user_id: int, amount: int, key: str
):
    team = team_get_for_admin(user=actor, team_id=team_id)
    _require_members(team, from_user_id, to_user_id)
    return credits_services.credits_reassign(
        team_id=team.id,
        from_user_id=from_user_id,
        to_user_id=to_user_id,
        amount=amount,
        key=f"reassign:{team.id}:{key}",
        actor_id=actor.id,
    )


# --- team API keys ----------------------------------------------------------------------------

API_KEY_LAST_USED_RESOLUTION = timedelta(minutes=1)


@transaction.atomic
def team_api_key_create(*, actor, team_id: int, name: str) -> tuple[TeamApiKey, str]:
    """A new key for a team the actor administers: (row, plaintext).

    The plaintext is returned here once and never stored; only its sha256 is kept."""
    team = team_get_for_admin(user=actor, team_id=team_id)
    name = clean_text(
        name, label="key name", limit=NAME_MAX_LENGTH, required_message="An API key needs a name."
    )
    prefix = secrets.token_hex(4)
    plaintext = f"ps_{prefix}_{secrets.token_urlsafe(32)}"
    key = TeamApiKey(
        team=team, name=name, prefix=prefix, key_hash=api_key_hash(plaintext), created_by=actor
    )
    key.full_clean()
    key.save()
    return key, plaintext


@transaction.atomic
def team_api_key_revoke(*, actor, team_id: int, key_id: int) -> TeamApiKey:
    """Revoke a key of a team the actor administers; revoking twice is a no-op."""
    team = team_get_for_admin(user=actor, team_id=team_id)
    try:
        key = TeamApiKey.objects.select_for_update().get(team=team, pk=int(key_id))
    except (TeamApiKey.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such API key.") from None
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def team_api_key_touch(*, key: TeamApiKey) -> None:
    """Record use, at most once a minute per key (one conditional UPDATE, no lock)."""
    now = timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < API_KEY_LAST_USED_RESOLUTION:
        return
    TeamApiKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - API_KEY_LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
    key.last_used_at = now
