import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from common.models import TimeStampedModel


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"


class Team(TimeStampedModel):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=120, unique=True)
    is_personal = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="teams"
    )

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Membership(TimeStampedModel):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="teams_one_membership_per_user"),
        ]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class TeamRemoval(models.Model):
    """Someone a team admin removed. Invite links do not let them back in, nor does an
    invitation sent before the removal (it is withdrawn); one sent after it (an admin
    asking them back by name) does, and clears this row."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="removals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    removed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="teams_one_removal_per_user"),
        ]
        ordering = ["-removed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} removed from {self.team}"


def _invitation_key() -> str:
    return secrets.token_urlsafe(32)


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    REVOKED = "revoked", "Revoked"


class Invitation(TimeStampedModel):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    # Allocated from the pool when accepted, while the pool has them (teams.services).
    credits = models.PositiveIntegerField(default=0)
    key = models.CharField(max_length=64, unique=True, default=_invitation_key)
    status = models.CharField(
        max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                "team",
                condition=Q(status="pending"),
                name="teams_one_pending_invitation_per_email",
            ),
        ]
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.email} to {self.team}"


class InviteLink(TimeStampedModel):
    """An open link to join a team as a member, for anyone who has it, within the limits its
    admin set: an e-mail domain (a verified address there), a number of uses, an expiry.
    The key in the URL is the capability; revoking the link stops it at once."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invite_links")
    key = models.CharField(max_length=64, unique=True, default=_invitation_key)
    allowed_domain = models.CharField(max_length=253, blank=True)
    max_uses = models.PositiveIntegerField(null=True, blank=True)
    uses = models.PositiveIntegerField(default=0)
    credits_each = models.PositiveIntegerField(
        default=0, help_text="Credits moved from the pool to each person who joins, while it lasts."
    )
    expires_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(uses__lte=models.F("max_uses")),
                name="teams_invite_link_uses_within_cap",
            ),
        ]
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"invite link to {self.team}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class TeamApiKey(models.Model):
    """A team admin's key for automation. Only a hash is kept: the plaintext is shown once.

    A request made with it acts as `created_by`, and only within `team`
    (teams.permissions.api_key_scope_check)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=8, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) for {self.team}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
