from __future__ import annotations

from django.conf import settings
from django.db import transaction

from accounts.models import User
from credits import services as credits_services
from staff.selectors import site_settings
from teams import services as teams_services


@transaction.atomic
def user_onboard(*, user: User) -> None:
    """Everything a new user gets: a personal team of one and the signup bonus.

    Idempotent: the bonus is keyed by the user, the personal team is fetched if it exists.
    """
    team = teams_services.team_create_personal(user=user)
    bonus = site_settings().signup_bonus
    if bonus > 0:
        credits_services.credits_grant(
            team_id=team.id,
            user_id=user.id,
            amount=bonus,
            category=credits_services.Category.BONUS,
            key=f"signup-bonus:{user.id}",
            memo="Welcome bonus",
        )


def user_create(
    *, email: str, password: str | None, name: str = "", is_staff: bool = False
) -> User:
    """Create a user outside the signup form (demo data, admin scripts, tests) and onboard it."""
    user = User.objects.create_user(email=email, password=password, name=name, is_staff=is_staff)
    user_onboard(user=user)
    return user


def user_reward_claim(*, user: User, key: str):
    """A rewarded-ad credit into the user's personal allocation, capped per day."""
    from django.utils import timezone

    team = teams_services.team_create_personal(user=user)
    day_start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    return credits_services.credits_reward(
        team_id=team.id,
        user_id=user.id,
        key=f"reward:{user.id}:{key}",
        amount=settings.CREDITS_REWARD_AMOUNT,
        daily_cap=settings.CREDITS_REWARD_DAILY_CAP,
        day_start=day_start,
    )
