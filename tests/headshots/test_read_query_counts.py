"""Exact query counts of the reads a member's app makes all day, signed in the way the
app is (X-Session-Token), with the cache warm as it is between polls and cold as after a
restart. bench/api_load.py measures them under load; a new query shows up here first."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.factories import finished_generation

pytestmark = pytest.mark.django_db

SIGNUP = "/_allauth/app/v1/auth/signup"


@pytest.fixture
def signed_in(media):
    """A member signed up through the app API (personal team, bonus) with 3 generations."""
    response = APIClient().post(
        SIGNUP, {"email": "counted@example.com", "password": "a-long-password-77"}, format="json"
    )
    token = response.json()["meta"]["session_token"]
    from accounts.models import User
    from teams.selectors import team_personal_for_user

    user = User.objects.get(email="counted@example.com")
    team = team_personal_for_user(user=user)
    generations = [finished_generation(user, team=team, n_images=2) for _ in range(3)]
    return token, generations[-1]


def _count(token: str, path: str) -> int:
    client = APIClient()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, HTTP_X_SESSION_TOKEN=token)
    assert response.status_code == 200, response.content
    return len(captured)


# (path, warm, cold). Warm: the user (the session is in the cache), then the view's own.
READS = [
    # user; the generation with its style; its images
    ("/api/v1/headshots/{id}", 3, 4),
    # user; count; the page with styles; the page's images
    ("/api/v1/headshots?page_size=20", 4, 5),
    # user; the personal team; the style catalogue version. Cold: + session, the style
    # rows, the site settings row
    ("/api/v1/headshots/config", 3, 6),
    # user; the member's account ids; count; the page of ledger lines with their
    # transactions and accounts
    ("/api/v1/credits/history", 4, 5),
]


@pytest.mark.parametrize("path,warm,cold", READS)
def test_a_members_reads_run_a_fixed_number_of_queries(signed_in, path, warm, cold):
    token, generation = signed_in
    path = path.format(id=generation.pk)
    _count(token, path)
    assert _count(token, path) == warm
    cache.clear()
    assert _count(token, path) == cold
