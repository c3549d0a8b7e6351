"""Reads of headshots, always within what the actor may see."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from common.errors import NotFound, object_id
from headshots.models import (
    GeneratedImage,
    HeadshotGeneration,
    HeadshotStyle,
    TeamStylePolicy,
)


def styles_active() -> QuerySet[HeadshotStyle]:
    return HeadshotStyle.objects.filter(is_active=True).order_by("sort_order", "name")


def style_policy_for_team(*, team) -> TeamStylePolicy | None:
    return TeamStylePolicy.objects.filter(team=team).prefetch_related("allowed_styles").first()


def styles_for_team(*, team) -> list[HeadshotStyle]:
    """Active styles, narrowed to the team admin's choice when they made one."""
    styles = list(styles_active())
    policy = style_policy_for_team(team=team)
    if policy is not None:
        allowed = {s.pk for s in policy.allowed_styles.all()}
        if allowed:
            styles = [s for s in styles if s.pk in allowed]
    return styles


def headshots_visible(*, user, team_id: int | None = None) -> QuerySet[HeadshotGeneration]:
    """The member's own, not deleted (within one team, for a team API key). Every read of
    generations starts here."""
    qs = HeadshotGeneration.objects.filter(user=user, deleted_at__isnull=True)
    return qs if team_id is None else qs.filter(team_id=team_id)


def _with_images(qs: QuerySet[HeadshotGeneration]) -> QuerySet[HeadshotGeneration]:
    return qs.select_related("style").prefetch_related(
        Prefetch(
            "images",
            queryset=GeneratedImage.objects.filter(deleted_at__isnull=True).order_by("index"),
        )
    )


def headshot_list(
    *, user, filters: dict | None = None, team_id: int | None = None
) -> QuerySet[HeadshotGeneration]:
    """History, newest first, with images in two more queries whatever the page size."""
    filters = filters or {}
    qs = headshots_visible(user=user, team_id=team_id)
    if filters.get("favorite") is not None:
        favorite = filters["favorite"]
        has_favorite_image = Q(images__is_favorite=True, images__deleted_at__isnull=True)
        qs = (
            qs.filter(Q(is_favorite=True) | has_favorite_image).distinct()
            if favorite
            else qs.filter(is_favorite=False)
        )
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("style"):
        qs = qs.filter(style__slug=filters["style"])
    return _with_images(qs).order_by("-created_at", "-id")


def headshot_get(
    *, user, generation_id, for_update: bool = False, team_id: int | None = None
) -> HeadshotGeneration:
    qs = headshots_visible(user=user, team_id=team_id)
    if for_update:
        qs = qs.select_for_update()
    try:
        return (
            _with_images(qs).get(pk=object_id(generation_id))
            if not for_update
            else qs.get(pk=object_id(generation_id))
        )
    except (HeadshotGeneration.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such headshot.") from None


def image_get(*, user, image_id, team_id: int | None = None) -> GeneratedImage:
    generations = headshots_visible(user=user, team_id=team_id)
    try:
        return GeneratedImage.objects.select_related("generation", "generation__style").get(
            pk=object_id(image_id), deleted_at__isnull=True, generation__in=generations
        )
    except (GeneratedImage.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such image.") from None


def headshots_generated(*, user) -> int:
    """Images a user has been delivered, ever (the profile counter)."""
    return GeneratedImage.objects.filter(generation__user=user).count()


def image_shared(*, image_id: int) -> GeneratedImage | None:
    """An image behind a share link its owner made; gone once deleted."""
    return (
        GeneratedImage.objects.select_related("generation", "generation__style")
        .filter(pk=image_id, deleted_at__isnull=True, generation__deleted_at__isnull=True)
        .first()
    )
