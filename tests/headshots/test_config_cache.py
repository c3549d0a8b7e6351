"""The style list behind config, estimate and submit is cached under a version read in one
query, so any change to a style or to a team's policy shows at once, whoever made it."""

import pytest
from django.core.cache import cache

from credits import services as credits_services
from headshots import selectors, services
from headshots.apis import HeadshotConfigApi
from headshots.models import HeadshotStyle, TeamStylePolicy
from staff.selectors import site_settings
from teams.models import Role
from tests.conftest import client_for, needs_postgres
from tests.factories import MembershipFactory, TeamFactory

pytestmark = pytest.mark.django_db

CONFIG = "/api/v1/headshots/config"


@pytest.fixture
def admin(db):
    team = TeamFactory()
    user = MembershipFactory(team=team, role=Role.ADMIN).user
    credits_services.credits_grant(
        team_id=team.id, user_id=user.id, amount=100, category="purchase", key="g"
    )
    user.team = team
    return user


def _slugs(user, team=None) -> list[str]:
    url = CONFIG if team is None else f"{CONFIG}?team={team.id}"
    response = client_for(user).get(url)
    assert response.status_code == 200, response.content
    return [s["slug"] for s in response.json()["styles"]]


def _estimate(user, style="corporate") -> int:
    response = client_for(user).post(
        "/api/v1/headshots/estimate", {"style": style, "batch_size": 1}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()["credits"]


def test_the_cached_answer_is_what_the_serializer_would_say(admin):
    first = client_for(admin).get(CONFIG).json()
    cached = client_for(admin).get(CONFIG).json()
    rules = site_settings()
    fresh = HeadshotConfigApi.OutputSerializer(
        {
            **first,
            "styles": list(selectors.styles_active()),
            "batch_size": {"min": 1, "max": rules.max_batch_size},
            "retention_minutes": rules.retention_minutes,
        }
    ).data
    assert cached == first == fresh


def test_warm_config_reads_the_version_only(admin, django_assert_num_queries):
    client = client_for(admin)
    client.get(CONFIG)
    # no personal team, then the first membership (the team); the catalogue version.
    # No style, policy or site-settings rows.
    with django_assert_num_queries(3):
        assert client.get(CONFIG).status_code == 200


def test_warm_estimate_reads_no_style_rows(admin, django_assert_num_queries):
    _estimate(admin)
    # the team (twice: estimate and submit share headshot_team), the catalogue version
    with django_assert_num_queries(3):
        _estimate(admin)


def test_a_style_edited_and_saved_shows_at_once(admin):
    assert _estimate(admin) == 3
    style = HeadshotStyle.objects.get(slug="corporate")
    style.name = "Boardroom"
    style.base_cost = 6
    style.save()  # what the admin change form and list_editable do
    assert "Boardroom" in [s["name"] for s in client_for(admin).get(CONFIG).json()["styles"]]
    assert _estimate(admin) == 6


def test_a_style_changed_without_save_still_shows_at_once_on_postgres(admin):
    needs_postgres()  # elsewhere the version follows updated_at, which save() bumps
    assert _estimate(admin) == 3
    HeadshotStyle.objects.filter(slug="corporate").update(base_cost=7)
    assert _estimate(admin) == 7


def test_deactivated_added_and_deleted_styles_show_at_once(admin):
    before = _slugs(admin)
    style = HeadshotStyle.objects.get(slug="linkedin")
    style.is_active = False
    style.save()
    assert "linkedin" not in _slugs(admin)
    new = HeadshotStyle.objects.create(slug="noir", name="Noir", prompt_template="noir")
    assert "noir" in _slugs(admin)
    new.delete()
    style.is_active = True
    style.save()
    assert _slugs(admin) == before


def test_a_team_policy_set_by_its_admin_narrows_only_that_team(admin):
    other = MembershipFactory(team=TeamFactory()).user
    everything = _slugs(admin)
    assert _slugs(other) == everything
    services.team_style_policy_set(
        actor=admin, team_id=admin.team.id, style_slugs=["linkedin", "corporate"]
    )
    assert sorted(_slugs(admin)) == ["corporate", "linkedin"]
    assert _slugs(other) == everything
    services.team_style_policy_set(actor=admin, team_id=admin.team.id, style_slugs=[])
    assert _slugs(admin) == everything


def test_a_policy_changed_in_its_styles_only_shows_at_once(admin):
    policy = TeamStylePolicy.objects.create(team=admin.team)
    policy.allowed_styles.set(HeadshotStyle.objects.filter(slug="linkedin"))
    assert _slugs(admin) == ["linkedin"]
    # a swap that keeps the count and the policy row as they were
    policy.allowed_styles.set(HeadshotStyle.objects.filter(slug="corporate"))
    assert _slugs(admin) == ["corporate"]
    client = client_for(admin)
    response = client.post(
        "/api/v1/headshots/estimate", {"style": "linkedin", "batch_size": 1}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_style"


def test_the_cache_only_holds_what_the_database_says(admin):
    _slugs(admin)
    cache.clear()  # a cold cache (restart, eviction) answers the same
    assert len(_slugs(admin)) == HeadshotStyle.objects.filter(is_active=True).count()
