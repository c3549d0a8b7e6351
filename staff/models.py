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


# --- analytics rollups ------------------------------------------------------------------------
#
# The figures of one closed UTC day, pre-computed from the rows (staff.services
# `metrics_rollups_refresh`), so that the analytics report over 90 days reads ~90 small rows
# instead of every generation, image and ledger line. Exactness rests on one invariant: a day
# is read from its rollup only while it has no `MetricsDirtyDay` row, and PostgreSQL triggers
# (migration 0003) write that row in the same transaction as any change to a row the day's
# figures come from. The columns hold plain ids, no foreign keys: a rollup is derived data,
# rebuilt whenever its rows change (a deleted user deletes their generations, which marks
# their days).


class MetricsDay(models.Model):
    """One closed UTC day's summable figures (see `staff.selectors.headshot_metrics`)."""

    day = models.DateField(primary_key=True)
    # {style_id: [total, completed, failed, refunded, processing_ms sum, timed count]}
    styles = models.JSONField(default=dict)
    hours = models.JSONField(default=list, help_text="Generations per UTC hour, 24 numbers")
    # {processing_ms // TIMING_BUCKET_MS: timed generations}: where the p95 lies, before
    # `MetricsDayTiming` gives its exact value.
    timing_buckets = models.JSONField(default=dict)
    images = models.PositiveIntegerField(default=0)
    renders = models.PositiveIntegerField(default=0)
    credits_sold = models.BigIntegerField(default=0)
    credits_captured = models.BigIntegerField(default=0)
    credits_refunded = models.BigIntegerField(default=0)
    credits_clawed_back = models.BigIntegerField(default=0)
    built_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"metrics of {self.day}"


class MetricsDayUser(models.Model):
    """Generations per (day, user, team): distinct users and teams do not add up over days."""

    day = models.DateField()
    user_id = models.BigIntegerField()
    team_id = models.BigIntegerField()
    generations = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "user_id", "team_id"], name="staff_metrics_one_user_team_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.generations} by {self.user_id} on {self.day}"


class MetricsDayTiming(models.Model):
    """Timed generations per (day, processing_ms): the exact values a p95 is read from."""

    day = models.DateField()
    processing_ms = models.PositiveIntegerField()
    generations = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "processing_ms"], name="staff_metrics_one_timing_day"
            )
        ]
        # The p95 reads one narrow band of values over many days.
        indexes = [models.Index(fields=["processing_ms", "day"], name="staff_metrics_timing_ms")]

    def __str__(self) -> str:
        return f"{self.generations} x {self.processing_ms} ms on {self.day}"


class MetricsDirtyDay(models.Model):
    """A UTC day whose rows changed since its rollup was built (or that has none yet).

    Written only by the database triggers of migration 0003 (never by Python: a
    `QuerySet.update()`, a cascade or raw SQL must mark the day too); deleted by
    `metrics_rollups_refresh` as it rebuilds the day.
    """

    day = models.DateField(primary_key=True)

    def __str__(self) -> str:
        return f"{self.day} changed"
