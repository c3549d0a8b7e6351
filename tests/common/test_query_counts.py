"""Lists and pages run a fixed number of queries whatever the number of rows (1, 20, 100)."""

import io

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from credits import services as credits_services
from headshots.models import GeneratedImage, HeadshotGeneration, HeadshotStyle, Status
from teams.models import Role, TeamRemoval
from tests.conftest import client_for
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

SIZES = (1, 20, 100)
_PICTURE = io.BytesIO()
Image.new("RGB", (8, 8), (90, 100, 110)).save(_PICTURE, format="JPEG")


def _world(rows: int):
    """A team admin with `rows` members, generations, images, ledger lines and people
    removed from the team."""
    team = TeamFactory()
    admin = MembershipFactory(team=team, role=Role.ADMIN).user
    credits_services.credits_grant(
        team_id=team.id, amount=10 * rows, category="purchase", key=f"w{team.id}"
    )
    style = HeadshotStyle.objects.get(slug="corporate")
    for i in range(rows):
        member = MembershipFactory(team=team).user
        credits_services.credits_allocate(
            team_id=team.id, user_id=member.id, amount=1, key=f"a{team.id}:{i}"
        )
        credits_services.credits_grant(
            team_id=team.id, user_id=admin.id, amount=1, category="reward", key=f"r{team.id}:{i}"
        )
        generation = HeadshotGeneration.objects.create(
            user=admin,
            team=team,
            style=style,
            aspect_ratio="1:1",
            status=Status.COMPLETED,
            progress=100,
        )
        image = GeneratedImage(
            generation=generation, index=0, width=8, height=8, seed=i, engine="studio"
        )
        image.image.save("0.jpg", ContentFile(_PICTURE.getvalue()), save=False)
        image.thumbnail.save("0-t.jpg", ContentFile(_PICTURE.getvalue()), save=False)
        image.save()
        TeamRemoval.objects.create(team=team, user=UserFactory(), removed_by=admin)
    return team, admin


def _queries(url: str, rows: int, *, session: bool) -> int:
    team, admin = _world(rows)
    if session:
        from django.test import Client

        client = Client()
        client.force_login(admin)
        client.get("/")  # warm the session
    else:
        client = client_for(admin)
    url = url.format(team=team.id)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/headshots?page_size=100",
        "/api/v1/credits/history?page_size=100",
        "/api/v1/teams/{team}/members?page_size=100",
        "/api/v1/teams/{team}/removals?page_size=100",
        "/api/v1/teams/{team}/credits",
        "/api/v1/teams",
        "/api/v1/me",
    ],
)
def test_api_lists_run_a_fixed_number_of_queries(url, media):
    counts = [_queries(url, rows, session=False) for rows in SIZES]
    assert len(set(counts)) == 1, dict(zip(SIZES, counts, strict=True))


@pytest.mark.parametrize("url", ["/", "/headshots/", "/teams/{team}/", "/billing/teams/{team}/"])
def test_pages_run_a_fixed_number_of_queries(url, media):
    counts = [_queries(url, rows, session=True) for rows in SIZES]
    assert len(set(counts)) == 1, dict(zip(SIZES, counts, strict=True))
