"""Film projects, their characters, and each character's image versions (seed 004)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

import generation
from characters.catalog import ART_STYLE_ORDER, SIZES, TEMPLATE_GROUPS
from common.models import TimeStampedModel

TemplateType = models.TextChoices(
    "TemplateType",
    [
        (slug.replace("-", "_").upper(), (slug, generation.TEMPLATES[slug].name))
        for slug in TEMPLATE_GROUPS
    ],
)
ArtStyle = models.TextChoices(
    "ArtStyle",
    [(slug.upper(), (slug, generation.ART_STYLES[slug].name)) for slug in ART_STYLE_ORDER],
)
Size = models.TextChoices(
    "Size",
    [
        (name, (value, SIZES[value]))
        for name, value in (
            ("SQUARE", "1:1"),
            ("LANDSCAPE", "4:3"),
            ("PORTRAIT", "3:4"),
            ("WIDESCREEN", "16:9"),
            ("VERTICAL", "9:16"),
        )
    ],
)


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    PROCESSING = "processing", "Processing"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class Mode(models.TextChoices):
    IMAGE_TO_IMAGE = "image_to_image", "Image to image"
    TEXT_TO_IMAGE = "text_to_image", "Text to image"


class Project(TimeStampedModel):
    """A film: its team's members all see it; its creator or a team admin may delete it."""

    team = models.ForeignKey("teams.Team", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["team", "-updated_at"], name="characters_project_team")]

    def __str__(self) -> str:
        return self.name


def _file_path(instance, filename: str) -> str:
    return f"characters/{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}-{filename}"


class Character(TimeStampedModel):
    """A character of a project. `image`/`thumbnail`/`poses` are the active version's,
    saved onto the character whenever the active version changes (seed 004 Phase 1)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="characters")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    image = models.FileField(upload_to=_file_path, blank=True, max_length=255)
    thumbnail = models.FileField(upload_to=_file_path, blank=True, max_length=255)
    poses = models.JSONField(
        default=list, blank=True, help_text="Panel labels and boxes of the active image"
    )

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class CharacterImageVersion(TimeStampedModel):
    """One generated image of a character, with everything needed to regenerate it.

    A version is created queued at submit and runs on Celery; it gets its number when
    it completes (failed attempts leave no gaps). At most one version per character is
    active: the database says so with a partial unique index.
    """

    character = models.ForeignKey(Character, on_delete=models.CASCADE, related_name="versions")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(
        "teams.Team", on_delete=models.PROTECT, related_name="+", help_text="Charged team"
    )
    regenerated_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    version_name = models.CharField(max_length=255)
    version_number = models.PositiveIntegerField(null=True, blank=True)
    is_active = models.BooleanField(default=False)

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)

    image = models.FileField(upload_to=_file_path, blank=True, max_length=255)
    thumbnail = models.FileField(upload_to=_file_path, blank=True, max_length=255)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)

    # Generation parameters, kept for regeneration.
    art_style = models.CharField(max_length=20, choices=ArtStyle.choices)
    template_type = models.CharField(max_length=30, choices=TemplateType.choices)
    aspect_ratio = models.CharField(max_length=5, choices=Size.choices)
    mode = models.CharField(max_length=16, choices=Mode.choices)
    prompt_used = models.TextField(blank=True)
    character_reference = models.FileField(upload_to=_file_path, blank=True, max_length=255)
    character_reference_url = models.URLField(max_length=2000, blank=True)
    background_reference = models.FileField(upload_to=_file_path, blank=True, max_length=255)
    background_reference_url = models.URLField(max_length=2000, blank=True)
    additional_description = models.TextField(blank=True)
    seed = models.BigIntegerField(default=0)

    # Money.
    credit_cost = models.PositiveIntegerField(default=0)
    credits_used = models.PositiveIntegerField(default=0)

    # What made it and how close it stayed to the reference (seed 003's locks).
    engine = models.CharField(max_length=30, blank=True)
    model_used = models.CharField(max_length=100, blank=True)
    identity_score = models.FloatField(null=True, blank=True)
    ssim_score = models.FloatField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    panels = models.JSONField(default=list, blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    idempotency_key = models.CharField(max_length=120, null=True, blank=True)  # noqa: DJ001 - NULL is "no key"; the unique constraint skips it
    request_fingerprint = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-version_number", "-created_at", "-id"]
        indexes = [
            models.Index(fields=["character", "is_active"], name="characters_version_active"),
            models.Index(fields=["status", "updated_at"], name="characters_version_status"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["character"],
                condition=Q(is_active=True),
                name="characters_one_active_version",
            ),
            models.UniqueConstraint(
                fields=["character", "version_number"],
                condition=Q(version_number__isnull=False),
                name="characters_one_version_per_number",
            ),
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="characters_one_version_per_key",
            ),
            models.CheckConstraint(
                condition=Q(is_active=False) | Q(status="completed"),
                name="characters_only_completed_is_active",
            ),
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="characters_progress_max_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version_name} ({self.status})"

    @property
    def hold_key(self) -> str:
        return f"character-version:{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in (Status.COMPLETED, Status.FAILED)

    @property
    def template_name(self) -> str:
        return generation.TEMPLATES[self.template_type].name

    @property
    def art_style_name(self) -> str:
        return generation.ART_STYLES[self.art_style].name


class CharacterView(models.Model):
    """The version a member last looked at, restored when they come back."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    character = models.ForeignKey(Character, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(CharacterImageVersion, on_delete=models.CASCADE, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "character"], name="characters_one_view_per_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} viewing {self.version_id}"


class ConsistencyPolicy(models.Model):
    """Staff's reference-consistency thresholds (one row; the defaults apply without it).

    A version whose result falls below them is re-rendered with a new seed up to
    `max_rerenders` times, then failed and its credits released.
    """

    # The photographic identity threshold is the site's one (staff SiteSettings), shared
    # with headshots: one number for "the same person" across the product.
    stylised_identity_threshold = models.FloatField(
        default=0.10,
        help_text="The same for anime, Ghibli-like and sketch, where FaceNet cannot tell "
        "people apart: a floor that only catches a lost face",
    )
    ssim_threshold = models.FloatField(
        default=0.20,
        help_text="SSIM of the aligned face region, photographic art styles on the studio "
        "engine (its panels reuse the reference pixels; a generative engine redraws the face)",
    )
    max_rerenders = models.PositiveSmallIntegerField(default=3)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "consistency policy"
        constraints = [
            models.CheckConstraint(
                condition=Q(max_rerenders__lte=5), name="characters_policy_rerenders_max_5"
            ),
        ]

    def __str__(self) -> str:
        return "reference consistency policy"
