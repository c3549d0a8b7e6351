"""Staff fixtures: a staff user, a paying member, and generations that really spent credits."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from credits import selectors as credits_selectors
from credits import services as credits_services
from headshots.models import GeneratedImage, HeadshotGeneration, HeadshotStyle, Status
from staff.selectors import site_settings_clear_cache
from tests.factories import MembershipFactory, TeamFactory, UserFactory


@pytest.fixture(autouse=True)
def _fresh_site_settings_cache():
    """Settings rows roll back with each test; their cached copy must not outlive them."""
    site_settings_clear_cache()
    yield
    site_settings_clear_cache()


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True, is_superuser=True, email="staff@example.com")


@pytest.fixture
def member(db):
    """A member of a team with 100 credits of their own."""
    team = TeamFactory(name="Acme")
    user = MembershipFactory(team=team).user
    credits_services.credits_grant(
        team_id=team.id,
        user_id=user.id,
        amount=100,
        category=credits_services.Category.PURCHASE,
        key=f"seed:{user.id}",
    )
    user.team = team
    return user


def balance(user) -> int:
    return credits_selectors.balance_member(team_id=user.team.id, user_id=user.id)


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (48, 48), (120, 130, 140)).save(out, format="JPEG")
    return out.getvalue()


def spent_generation(
    user,
    *,
    costs: tuple[int, ...] = (3, 2),
    status: str = Status.COMPLETED,
    style: str = "corporate",
    processing_ms: int | None = 1500,
    created_at: datetime | None = None,
    with_files: bool = False,
    attempts: int = 1,
) -> HeadshotGeneration:
    """A finished generation whose credits went through the ledger exactly as a run does:
    held at submit, captured per delivered image (same keys), the rest released."""
    held = max(sum(costs), 3)
    generation = HeadshotGeneration.objects.create(
        user=user,
        team=user.team,
        style=HeadshotStyle.objects.get(slug=style),
        aspect_ratio="1:1",
        batch_size=max(len(costs), 1),
        status=Status.PROCESSING,
        credits_held=held,
    )
    credits_services.credits_hold(
        team_id=user.team.id,
        user_id=user.id,
        amount=held,
        key=generation.hold_key,
        category=credits_services.Category.HEADSHOT,
        reference=f"headshot:{generation.pk}",
    )
    picture = _jpeg() if with_files else None
    for index, cost in enumerate(costs):
        image = GeneratedImage(
            generation=generation,
            index=index,
            width=48,
            height=48,
            seed=index,
            engine="studio",
            credits=cost,
            attempts=attempts,
        )
        if picture:
            image.image.save(f"{index}.jpg", ContentFile(picture), save=False)
            image.thumbnail.save(f"{index}-t.jpg", ContentFile(picture), save=False)
        image.save()
        credits_services.credits_capture(
            hold_key=generation.hold_key, amount=cost, key=f"{generation.hold_key}:capture:{index}"
        )
    credits_services.credits_release(
        hold_key=generation.hold_key, key=f"{generation.hold_key}:release"
    )
    HeadshotGeneration.objects.filter(pk=generation.pk).update(
        status=status,
        progress=100,
        credits_used=sum(costs),
        processing_ms=processing_ms,
        finished_at=timezone.now(),
        **({"created_at": created_at} if created_at else {}),
    )
    generation.refresh_from_db()
    return generation


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    return settings.MEDIA_ROOT
