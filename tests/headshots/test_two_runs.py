"""Two runs of one headshot job at once (the reconciler re-queued a slow but live one):
each image is priced against the other run's deliveries, never twice at the first-image
price. Real threads on PostgreSQL."""

import threading

import pytest
from django.db import connection

from credits import services as credits_services
from credits.models import Hold
from headshots import engine
from headshots import services as headshot_services
from headshots.models import HeadshotGeneration, HeadshotStyle, Status
from headshots.pricing import headshot_price
from tests.conftest import needs_postgres
from tests.factories import MembershipFactory, TeamFactory

pytestmark = pytest.mark.django_db(transaction=True)

OUTCOME = engine.RenderOutcome(
    jpeg=b"jpeg",
    webp=b"webp",
    thumbnail=b"thumb",
    width=1,
    height=1,
    seed=1,
    engine="studio",
    model="",
    attempts=1,
    identity_score=None,
    quality_score=None,
    metadata={},
)


def _job(batch_size: int) -> HeadshotGeneration:
    team = TeamFactory()
    user = MembershipFactory(team=team).user
    credits_services.credits_grant(
        team_id=team.id, user_id=user.id, amount=50, category="purchase", key="g"
    )
    style = HeadshotStyle.objects.get(slug="corporate")
    price = headshot_price(
        base_cost=style.base_cost, is_premium=False, quality="standard", batch_size=batch_size
    )
    generation = HeadshotGeneration.objects.create(
        user=user,
        team=team,
        style=style,
        aspect_ratio="1:1",
        batch_size=batch_size,
        credits_held=price,
        status=Status.PROCESSING,
        metadata={"seed": 1, "base_cost": style.base_cost, "is_premium": False},
    )
    credits_services.credits_hold(
        team_id=team.id, user_id=user.id, amount=price, key=generation.hold_key, category="headshot"
    )
    return generation


def test_two_runs_delivering_at_once_charge_the_first_image_price_once(media, monkeypatch):
    needs_postgres()
    generation = _job(batch_size=4)
    a_captured, a_may_commit = threading.Event(), threading.Event()
    capture = credits_services.credits_capture

    def capture_then_pause(**kwargs):
        movement = capture(**kwargs)
        if kwargs["key"].endswith(":capture:0"):  # run A, inside its delivery transaction
            a_captured.set()
            a_may_commit.wait(10)
        return movement

    monkeypatch.setattr(headshot_services.credits_services, "credits_capture", capture_then_pause)

    def deliver(index: int):
        try:
            headshot_services._deliver(
                HeadshotGeneration.objects.get(pk=generation.pk), index, OUTCOME
            )
        finally:
            connection.close()

    run_a = threading.Thread(target=deliver, args=(0,))
    run_a.start()
    assert a_captured.wait(10)
    # Run B (its image 0 failed) delivers image 1 while A has not committed yet.
    threading.Timer(0.5, a_may_commit.set).start()
    run_b = threading.Thread(target=deliver, args=(1,))
    run_b.start()
    run_a.join(15)
    run_b.join(15)

    generation.refresh_from_db()
    price = {"base_cost": generation.style.base_cost, "is_premium": False, "quality": "standard"}
    one, two = headshot_price(**price, batch_size=1), headshot_price(**price, batch_size=2)
    assert sorted(generation.images.values_list("credits", flat=True)) == sorted([one, two - one])
    assert Hold.objects.get(key=generation.hold_key).captured == two == generation.credits_used
