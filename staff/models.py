"""What staff change and what they did: site settings, the audit log, and the analytics page.

Credits move only through credits.services; an AuditLog row says which staff member moved
them and why, next to the ledger transaction that carries the same actor and reason.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from headshots.models import HeadshotGeneration


class EnginePreset(models.TextChoices):
    BEST = "best", "Best"
    BALANCED = "balanced", "Balanced"
    FAST = "fast", "Fast"


class SiteSettings(models.Model):
    """The one row of product rules staff tune without a deploy.

    Created on first edit from the values in config/settings.py (the environment); from then
    on this row wins. Read through `staff.selectors.site_settings()`, which caches it.
    """

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    identity_threshold = models.FloatField(
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Minimum face similarity between the selfie and a result (0-1). "
        "Higher rejects more results as 'not the same person'.",
    )
    max_runs = models.PositiveSmallIntegerField(
        "retry limit",
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="Runs per generation: the first one plus the member's retries.",
    )
    retention_minutes = models.PositiveIntegerField(
        "retention window (minutes)",
        validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 30)],
        help_text="Uploaded originals are deleted this long after their job ends.",
    )
    max_batch_size = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(4)],
        help_text="Most images a member may order in one generation (1-4).",
    )
    signup_bonus = models.PositiveIntegerField(
        validators=[MaxValueValidator(1000)],
        help_text="Free credits a new user receives (0 turns the bonus off).",
    )
    engine_preset = models.CharField(
        "default engine preset",
        max_length=10,
        choices=EnginePreset.choices,
        help_text="Which engine family renders headshots; the studio engine when no "
        "provider of that preset is configured.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = verbose_name_plural = "site settings"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="staff_site_settings_singleton"),
            models.CheckConstraint(
                condition=Q(max_batch_size__gte=1) & Q(max_batch_size__lte=4),
                name="staff_site_settings_batch_1_to_4",
            ),
            models.CheckConstraint(
                condition=Q(identity_threshold__gte=0) & Q(identity_threshold__lte=1),
                name="staff_site_settings_threshold_0_to_1",
            ),
            models.CheckConstraint(condition=Q(max_runs__gte=1), name="staff_site_settings_runs"),
        ]

    def __str__(self) -> str:
        return "Site settings"


class AuditAction(models.TextChoices):
    REFUND = "refund", "Refund"
    ADJUST = "adjust", "Credit adjustment"
    SETTINGS = "settings", "Site settings change"


class AuditLog(models.Model):
    """Append-only: one row per staff action that moved credits or changed a rule."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", help_text="Staff"
    )
    action = models.CharField(max_length=20, choices=AuditAction.choices, db_index=True)
    target_type = models.CharField(max_length=30)
    target_id = models.CharField(max_length=64)
    target_repr = models.CharField(max_length=200)
    team_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The member whose credits moved",
    )
    amount = models.IntegerField(null=True, blank=True)
    reason = models.TextField(blank=True)
    ledger_keys = models.JSONField(default=list, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="staff_audit_target")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} of {self.target_repr} by {self.actor_id}"


class Analytics(HeadshotGeneration):
    """No table of its own: the admin entry whose page is the analytics dashboard."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "analytics"
