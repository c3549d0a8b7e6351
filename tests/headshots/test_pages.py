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


def _member_with(credits: int, *, role=Role.MEMBER):
    from credits import services as credits_services

    membership = MembershipFactory(team=TeamFactory(name="Acme"), role=role)
    if credits:
        credits_services.credits_grant(
            team_id=membership.team_id,
            user_id=membership.user_id,
            amount=credits,
            category="purchase",
            key=f"grant-{membership.pk}",
        )
    return membership


def test_new_headshot_page_shows_the_cost_of_the_default_choice_on_load(client):
    """The estimate once waited for a Format change: htmx refused to send the form while
    its required photo was empty."""
    membership = _member_with(20)
    client.force_login(membership.user)
    html = client.get("/headshots/new/").content.decode()
    first_style = html.split('name="style" value="', 1)[1].split('"', 1)[0]
    from headshots.models import HeadshotStyle

    style = HeadshotStyle.objects.get(slug=first_style)
    assert f'data-testid="estimate">{style.base_cost}</strong>' in html
    assert 'id="submit" >' in html or 'id="submit">' in html  # enabled


def test_a_member_without_enough_credits_is_told_whom_to_ask_and_cannot_submit(client):
    membership = _member_with(0)
    client.force_login(membership.user)
    html = client.get("/headshots/new/").content.decode()
    assert 'data-testid="estimate-short"' in html
    assert "Ask your team admin for credits" in html and "Buy credits" not in html
    assert f'href="/billing/teams/{membership.team_id}/"' in html
    assert 'id="submit" disabled' in html


def test_an_admin_without_enough_credits_is_offered_to_buy_them(client):
    membership = _member_with(0, role=Role.ADMIN)
    client.force_login(membership.user)
    html = client.get("/headshots/new/").content.decode()
    assert f'href="/billing/teams/{membership.team_id}/#buy">Buy credits' in html
    assert "Ask your team admin" not in html


def test_a_refused_submit_keeps_the_members_choices_and_says_to_choose_the_photo_again(
    client, face_jpeg, media
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    membership = _member_with(1)  # not enough for 3 images
    client.force_login(membership.user)
    response = client.post(
        "/headshots/new/",
        {
            "photo": SimpleUploadedFile("me.jpg", face_jpeg, content_type="image/jpeg"),
            "style": "linkedin",
            "aspect_ratio": "4:5",
            "quality": "high",
            "batch_size": "3",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "choose it again" in html
    assert 'value="linkedin" checked' in html
    assert '<option value="4:5" selected>' in html
    assert '<option value="high" selected>' in html
    assert '<option value="3" selected>' in html


def test_the_live_estimate_answers_a_bad_choice_with_a_message_and_no_button(client):
    membership = _member_with(20)
    client.force_login(membership.user)
    html = client.post("/headshots/estimate/", {"style": "nope", "batch_size": "1"}).content
    assert b'data-testid="estimate-problem"' in html
    assert b'id="submit" disabled' in html
