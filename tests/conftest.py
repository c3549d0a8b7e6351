import os

import pytest
from django.db import connection
from rest_framework.test import APIClient

from credits import services as credits_services
from teams.models import Role
from tests.factories import MembershipFactory, TeamFactory, UserFactory

# CI sets REQUIRE_SERVICES=1: a test that needs PostgreSQL or Redis then fails loudly
# instead of skipping, so a missing service can never hide behind a green run.
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def pytest_configure(config) -> None:
    from django.conf import settings

    # Real hashing costs ~0.3 s a user; tests create hundreds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def needs_postgres() -> None:
    if connection.vendor != "postgresql":
        if REQUIRE_SERVICES:
            pytest.fail("This test needs PostgreSQL (DATABASE_URL) and CI requires it.")
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://...")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """A reused test database may have lost its seeded rows to an earlier flush."""
    from headshots.models import HeadshotStyle
    from headshots.styles_seed import seed_styles

    with django_db_blocker.unblock():
        seed_styles(HeadshotStyle)


@pytest.fixture(autouse=True)
def _default_styles(request):
    """`transaction=True` tests start after a flush that removed the seeded styles."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or (
        "live_server" in request.fixturenames
    )
    if transactional:
        from headshots.models import HeadshotStyle
        from headshots.styles_seed import seed_styles

        request.getfixturevalue("transactional_db")
        seed_styles(HeadshotStyle)


@pytest.fixture
def api():
    return APIClient()


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def team_setup(db):
    """A shared team: an admin, two members, an outsider in another team; 100 in the pool."""
    team = TeamFactory(name="Acme")
    admin = MembershipFactory(team=team, role=Role.ADMIN).user
    alice = MembershipFactory(team=team).user
    bob = MembershipFactory(team=team).user
    other_team = TeamFactory(name="Other")
    outsider = MembershipFactory(team=other_team, role=Role.ADMIN).user
    credits_services.credits_grant(
        team_id=team.id, amount=100, category=credits_services.Category.PURCHASE, key="seed:acme"
    )
    return {
        "team": team,
        "admin": admin,
        "alice": alice,
        "bob": bob,
        "other_team": other_team,
        "outsider": outsider,
    }


@pytest.fixture
def user(db):
    return UserFactory()
