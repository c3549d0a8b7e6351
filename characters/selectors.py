"""Reads of the character studio, always within the teams the actor belongs to.

Every lookup goes through `projects_visible`: a project of a team the actor is not in
is "not found", exactly like one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet

from characters import catalog, pricing
from characters.engine import Thresholds
from characters.models import (
    Character,
    CharacterImageVersion,
    CharacterView,
    ConsistencyPolicy,
    Project,
    Status,
)
from common.errors import NotFound
from staff.selectors import site_settings
from teams import selectors as teams_selectors

RUNNING = (Status.QUEUED, Status.PROCESSING)


def projects_visible(*, user) -> QuerySet[Project]:
    return Project.objects.filter(team__memberships__user=user)


def project_list(*, user, team_id: int | None = None) -> QuerySet[Project]:
    qs = projects_visible(user=user)
    if team_id:
        qs = qs.filter(team_id=team_id)
    return (
        qs.select_related("team", "created_by")
        .annotate(character_count=Count("characters", distinct=True))
        .order_by("-updated_at", "-id")
    )


def project_get(*, user, project_id, for_update: bool = False) -> Project:
    qs = projects_visible(user=user).select_related("team", "created_by")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    try:
        return qs.get(pk=int(project_id))
    except (Project.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such project.") from None


def _active_versions() -> Prefetch:
    return Prefetch(
        "versions",
        queryset=CharacterImageVersion.objects.filter(is_active=True),
        to_attr="active_versions",
    )


def characters_visible(*, user) -> QuerySet[Character]:
    return Character.objects.filter(project__team__memberships__user=user)


def character_list(*, user, project_id) -> QuerySet[Character]:
    project = project_get(user=user, project_id=project_id)
    return (
        Character.objects.filter(project=project)
        .select_related("project", "created_by")
        .annotate(
            version_count=Count("versions", filter=Q(versions__status=Status.COMPLETED)),
        )
        .prefetch_related(_active_versions())
        .order_by("name", "id")
    )


def character_get(*, user, character_id, for_update: bool = False) -> Character:
    qs = characters_visible(user=user).select_related("project", "project__team", "created_by")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    else:
        qs = qs.prefetch_related(_active_versions())
    try:
        return qs.get(pk=int(character_id))
    except (Character.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such character.") from None


def active_version(character: Character) -> CharacterImageVersion | None:
    prefetched = getattr(character, "active_versions", None)
    if prefetched is not None:
        return prefetched[0] if prefetched else None
    return character.versions.filter(is_active=True).first()


def version_list(*, user, character_id, status: str | None = None) -> QuerySet:
    character = character_get(user=user, character_id=character_id)
    qs = CharacterImageVersion.objects.filter(character=character).select_related("created_by")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-version_number", "-created_at", "-id")


def version_get(*, user, character_id, version_id) -> CharacterImageVersion:
    try:
        return (
            CharacterImageVersion.objects.select_related(
                "character", "character__project", "created_by"
            )
            .filter(character__project__team__memberships__user=user)
            .get(pk=int(version_id), character_id=int(character_id))
        )
    except (CharacterImageVersion.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such version.") from None


def version_running(*, user, character_id) -> list[CharacterImageVersion]:
    return list(version_list(user=user, character_id=character_id).filter(status__in=RUNNING))


def version_last_viewed(*, user, character: Character) -> CharacterImageVersion | None:
    """What this member looked at last (if it still exists and is done), else the active one."""
    view = (
        CharacterView.objects.filter(
            user=user, character=character, version__status=Status.COMPLETED
        )
        .select_related("version")
        .first()
    )
    return view.version if view is not None else active_version(character)


def can_delete(*, user, owner_id: int | None, team_id: int) -> bool:
    """Projects, characters and versions: their creator or a team admin."""
    return (owner_id is not None and owner_id == user.id) or teams_selectors.is_team_admin(
        user=user, team_id=team_id
    )


def consistency_thresholds() -> Thresholds:
    policy = ConsistencyPolicy.objects.order_by("pk").first() or ConsistencyPolicy()
    return Thresholds(
        identity=site_settings().identity_threshold,
        stylised_identity=policy.stylised_identity_threshold,
        ssim=policy.ssim_threshold,
        max_rerenders=policy.max_rerenders,
    )


@dataclass(frozen=True)
class TemplateOption:
    info: catalog.TemplateInfo
    credits: int

    @property
    def slug(self) -> str:
        return self.info.slug


def studio_config() -> dict:
    """Templates with their price, art styles and sizes: what the modal and the API offer."""
    return {
        "groups": catalog.GROUPS,
        "templates": [
            TemplateOption(info, pricing.character_price(template=info.slug))
            for info in catalog.templates()
        ],
        "art_styles": catalog.art_styles(),
        "sizes": list(catalog.SIZES.items()),
        "background_surcharge": pricing.character_price(template="headshot", with_background=True)
        - pricing.character_price(template="headshot"),
    }
