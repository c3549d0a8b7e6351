"""Styles, generations and their images."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from common.models import TimeStampedModel


class Category(models.TextChoices):
    BUSINESS = "business", "Business"
    CREATIVE = "creative", "Creative"
    ENTERTAINMENT = "entertainment", "Entertainment"
    SPECIALIZED = "specialized", "Specialized"
    PREMIUM = "premium", "Premium"


class Backdrop(models.TextChoices):
    STUDIO_GREY = "studio_grey", "Studio grey"
    WHITE = "white", "White"
    OFFICE_BLUR = "office_blur", "Office blur"
    GRADIENT = "gradient", "Gradient"
    OUTDOOR = "outdoor", "Outdoor"
    BRAND = "brand", "Brand colour"
    CUSTOM = "custom", "Custom image"


class AspectRatio(models.TextChoices):
    SQUARE = "1:1", "1:1 square (LinkedIn, profiles)"
    PORTRAIT = "3:4", "3:4 portrait (classic headshot)"
    PORTRAIT_PLUS = "4:5", "4:5 portrait+ (Instagram, print)"


class Quality(models.TextChoices):
    STANDARD = "standard", "Standard (1024 px)"
    HIGH = "high", "High (1536 px)"
    ULTRA = "ultra", "Ultra (2048 px)"


class HeadshotStyle(TimeStampedModel):
    """A look staff configure in admin: prompt for generative engines, backdrop and grade for ours."""

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.BUSINESS)
    prompt_template = models.TextField()
    negative_prompt = models.TextField(blank=True)
    backdrop = models.CharField(
        max_length=20, choices=Backdrop.choices, default=Backdrop.STUDIO_GREY
    )
    backdrop_color = models.CharField(
        max_length=7, blank=True, help_text="#rrggbb for brand backdrops"
    )
    grade = models.CharField(max_length=30, default="neutral")
    light = models.CharField(max_length=30, default="soft")
    framing = models.FloatField(
        default=0.30, help_text="Face height as a share of the frame (0.08-0.6)"
    )
    retouch = models.FloatField(default=0.5, help_text="Skin retouch strength 0-1")
    brighten_eyes = models.BooleanField(default=False)
    brighten_teeth = models.BooleanField(default=False)
    is_premium = models.BooleanField(default=False)
    base_cost = models.PositiveSmallIntegerField(default=3)
    is_active = models.BooleanField(default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)
    sample = models.ImageField(upload_to="styles/", blank=True)

    class Meta:
        ordering = ["sort_order", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(base_cost__gte=1), name="headshots_style_costs_something"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TeamStylePolicy(TimeStampedModel):
    """A team admin's brand rules: which styles members may use, and one backdrop for all."""

    team = models.OneToOneField("teams.Team", on_delete=models.CASCADE, related_name="style_policy")
    allowed_styles = models.ManyToManyField(HeadshotStyle, blank=True, related_name="+")
    backdrop = models.CharField(max_length=20, choices=Backdrop.choices, blank=True)
    backdrop_color = models.CharField(max_length=7, blank=True)
    backdrop_image = models.ImageField(upload_to="backdrops/", blank=True)

    class Meta:
        verbose_name_plural = "team style policies"

    def __str__(self) -> str:
        return f"style policy of {self.team_id}"


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    PROCESSING = "processing", "Processing"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    REFUNDED = "refunded", "Refunded"


def _upload_path(instance: HeadshotGeneration, filename: str) -> str:
    return f"uploads/{instance.user_id}/{uuid.uuid4().hex}.jpg"


class HeadshotGeneration(TimeStampedModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey("teams.Team", on_delete=models.PROTECT, related_name="+")
    style = models.ForeignKey(HeadshotStyle, on_delete=models.PROTECT, related_name="+")
    aspect_ratio = models.CharField(max_length=5, choices=AspectRatio.choices)
    quality = models.CharField(max_length=10, choices=Quality.choices, default=Quality.STANDARD)
    batch_size = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    credits_held = models.PositiveIntegerField(default=0)
    credits_used = models.PositiveIntegerField(default=0)
    credits_refunded = models.PositiveIntegerField(default=0)
    attempt = models.PositiveSmallIntegerField(
        default=1, help_text="Run number; keys its credit hold"
    )
    retry_count = models.PositiveSmallIntegerField(default=0)
    source = models.FileField(upload_to=_upload_path, blank=True)
    source_deleted_at = models.DateTimeField(null=True, blank=True)
    inspection = models.JSONField(default=dict, blank=True)
    engine = models.CharField(max_length=30, blank=True)
    processing_ms = models.PositiveIntegerField(null=True, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    is_favorite = models.BooleanField(default=False)
    idempotency_key = models.CharField(max_length=120, null=True, blank=True)  # noqa: DJ001 - NULL is "no key"; the unique constraint skips it
    request_fingerprint = models.CharField(max_length=64, blank=True)
    batch_id = models.UUIDField(null=True, blank=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["user", "-created_at", "-id"],
                condition=Q(deleted_at__isnull=True),
                name="headshots_gen_user_recent",
            ),
            models.Index(fields=["status", "updated_at"], name="headshots_gen_status_upd"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="headshots_one_generation_per_key",
            ),
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="headshots_progress_max_100"
            ),
            models.CheckConstraint(
                condition=Q(batch_size__gte=1) & Q(batch_size__lte=4), name="headshots_batch_1_to_4"
            ),
        ]

    def __str__(self) -> str:
        return f"headshot #{self.pk} ({self.status})"

    @property
    def hold_key(self) -> str:
        return f"headshot:{self.pk}:run{self.attempt}"

    @property
    def is_finished(self) -> bool:
        return self.status in (Status.COMPLETED, Status.FAILED, Status.REFUNDED)


def _image_path(instance: GeneratedImage, filename: str) -> str:
    return f"headshots/{instance.generation.user_id}/{instance.generation_id}/{filename}"


class GeneratedImage(models.Model):
    generation = models.ForeignKey(
        HeadshotGeneration, on_delete=models.CASCADE, related_name="images"
    )
    index = models.PositiveSmallIntegerField()
    image = models.FileField(upload_to=_image_path)
    image_webp = models.FileField(upload_to=_image_path, blank=True)
    thumbnail = models.FileField(upload_to=_image_path, blank=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    seed = models.BigIntegerField()
    identity_score = models.FloatField(null=True, blank=True)
    quality_score = models.FloatField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    engine = models.CharField(max_length=30)
    model_name = models.CharField(max_length=100, blank=True)
    credits = models.PositiveSmallIntegerField(default=0)
    metadata = models.JSONField(default=dict, blank=True)
    is_favorite = models.BooleanField(default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["generation_id", "index"]
        constraints = [
            models.UniqueConstraint(
                fields=["generation", "index"], name="headshots_one_image_per_index"
            ),
        ]

    def __str__(self) -> str:
        return f"image {self.index} of {self.generation_id}"


class Event(models.Model):
    """Product analytics: one row per thing a member did or a job did."""

    class Name(models.TextChoices):
        STARTED = "started", "Started"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        DOWNLOADED = "downloaded", "Downloaded"
        STYLE_SELECTED = "style_selected", "Style selected"
        SHARED = "shared", "Shared"

    name = models.CharField(max_length=20, choices=Name.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    generation = models.ForeignKey(
        HeadshotGeneration, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return self.name
