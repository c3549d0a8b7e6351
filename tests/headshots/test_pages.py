import pytest

from headshots.models import TeamStylePolicy
from teams.models import Role
from tests.factories import MembershipFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team_admin():
    team = TeamFactory()
    return team, MembershipFactory(team=team, role=Role.ADMIN).user


def test_admin_limits_styles_and_fixes_a_brand_backdrop(client, team_admin):
    team, admin = team_admin
    client.force_login(admin)
    response = client.post(
        f"/headshots/team/{team.id}/styles/",
        {"styles": ["linkedin", "corporate"], "backdrop": "brand", "backdrop_color": "#1c7ed6"},
    )
    assert response.status_code == 302
    policy = TeamStylePolicy.objects.get(team=team)
    assert sorted(policy.allowed_styles.values_list("slug", flat=True)) == ["corporate", "linkedin"]
    assert (policy.backdrop, policy.backdrop_color) == ("brand", "#1c7ed6")


def test_a_brand_backdrop_needs_a_colour(client, team_admin):
    team, admin = team_admin
    client.force_login(admin)
    client.post(
        f"/headshots/team/{team.id}/styles/", {"backdrop": "brand", "backdrop_color": "blue"}
    )
    assert not TeamStylePolicy.objects.filter(team=team, backdrop="brand").exists()


def test_a_member_cannot_change_the_brand_settings(client, team_admin):
    team, _ = team_admin
    member = MembershipFactory(team=team).user
    client.force_login(member)
    response = client.post(f"/headshots/team/{team.id}/styles/", {"styles": ["linkedin"]})
    assert response.status_code == 403
    assert not TeamStylePolicy.objects.exists()


def test_new_headshot_page_shows_only_the_teams_styles(client, team_admin):
    team, admin = team_admin
    policy = TeamStylePolicy.objects.create(team=team)
    from headshots.models import HeadshotStyle

    policy.allowed_styles.set(HeadshotStyle.objects.filter(slug="linkedin"))
    client.force_login(admin)
    session = client.session
    session["team_id"] = team.id
    session.save()
    html = client.get("/headshots/new/").content.decode()
    assert 'value="linkedin"' in html and 'value="corporate"' not in html


def test_gallery_and_new_pages_render(client, team_admin):
    _, admin = team_admin
    client.force_login(admin)
    assert client.get("/headshots/").status_code == 200
    assert client.get("/headshots/new/").status_code == 200


def test_new_headshot_page_charges_the_team_the_switcher_shows(client):
    """The switcher and the charge line once disagreed (personal vs first shared team)."""
    personal = MembershipFactory(team=TeamFactory(name="Solo", is_personal=True), role=Role.ADMIN)
    MembershipFactory(team=TeamFactory(name="Acme"), user=personal.user)
    client.force_login(personal.user)
    html = client.get("/headshots/new/").content.decode()
    selected = html.split("selected>", 1)[1].split("<", 1)[0]
    assert selected.startswith("Acme")
    assert "Charged to <strong>Acme</strong>" in html
