import pytest

from teams.models import Invitation, Membership, Role
from tests.factories import InvitationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_home_page_for_visitors_explains_the_product(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Sign up" in response.content


def test_dashboard_shows_balances_per_team(client, team_setup):
    client.force_login(team_setup["admin"])
    response = client.get("/")
    assert response.status_code == 200
    assert b"Acme" in response.content


def test_team_page_is_404_for_an_outsider(client, team_setup):
    client.force_login(team_setup["outsider"])
    assert client.get(f"/teams/{team_setup['team'].id}/").status_code == 404


def test_member_sees_the_team_without_admin_controls(client, team_setup):
    client.force_login(team_setup["alice"])
    response = client.get(f"/teams/{team_setup['team'].id}/")
    assert response.status_code == 200
    assert b"Send invitation" not in response.content


def test_admin_invites_in_place_with_htmx(client, team_setup):
    client.force_login(team_setup["admin"])
    response = client.post(
        f"/teams/{team_setup['team'].id}/invite/",
        {"email": "fresh@example.com", "role": "member"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert b"<html" not in response.content  # a fragment, swapped into the page
    assert b"fresh@example.com" in response.content
    assert Invitation.objects.filter(email="fresh@example.com").exists()


def test_member_cannot_invite_through_the_page(client, team_setup):
    client.force_login(team_setup["alice"])
    response = client.post(
        f"/teams/{team_setup['team'].id}/invite/", {"email": "x@example.com", "role": "member"}
    )
    assert response.status_code in (403, 200)
    assert not Invitation.objects.exists()


def test_admin_changes_a_role_in_place_and_is_told_so(client, team_setup):
    client.force_login(team_setup["admin"])
    t = team_setup
    response = client.post(
        f"/teams/{t['team'].id}/members/{t['bob'].id}/role/",
        {"role": "admin"},
        HTTP_HX_REQUEST="true",
    )
    assert Membership.objects.get(team=t["team"], user=t["bob"]).role == Role.ADMIN
    assert f"{t['bob'].display_name} is now a admin." not in response.content.decode()
    assert f"{t['bob'].display_name} is now an admin." in response.content.decode()


def _own_row(html: str, email: str) -> str:
    return html.split(f'class="muted sub">{email}</span>', 1)[1].split("</tr>", 1)[0]


def test_an_admin_steps_down_with_a_button_not_a_role_dropdown(client, team_setup):
    """The admin's own row had the same dropdown as everyone's: one slip demoted them
    with no question asked, and the page kept showing admin controls."""
    t = team_setup
    client.force_login(t["admin"])
    own = _own_row(client.get(f"/teams/{t['team'].id}/").content.decode(), t["admin"].email)
    assert "<select" not in own and "(the only admin)" in own

    Membership.objects.filter(team=t["team"], user=t["bob"]).update(role=Role.ADMIN)
    own = _own_row(client.get(f"/teams/{t['team'].id}/").content.decode(), t["admin"].email)
    assert "<select" not in own and 'data-testid="step-down"' in own and "hx-confirm" in own


def test_stepping_down_reloads_the_whole_page_with_a_message(client, team_setup):
    t = team_setup
    Membership.objects.filter(team=t["team"], user=t["bob"]).update(role=Role.ADMIN)
    client.force_login(t["admin"])
    response = client.post(
        f"/teams/{t['team'].id}/members/{t['admin'].id}/role/",
        {"role": "member"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204 and response["HX-Refresh"] == "true"
    assert Membership.objects.get(team=t["team"], user=t["admin"]).role == Role.MEMBER
    page = client.get(f"/teams/{t['team'].id}/").content.decode()
    assert "You are now a member of this team." in page
    assert "Brand settings" not in page and "Send invitation" not in page


def test_invitation_page_accepts_for_the_invited_user(client, team_setup):
    invitee = UserFactory(email="join@example.com")
    invitation = InvitationFactory(team=team_setup["team"], email="join@example.com")
    client.force_login(invitee)
    assert b"Accept and join" in client.get(f"/teams/invitations/{invitation.key}/").content
    response = client.post(f"/teams/invitations/{invitation.key}/", follow=True)
    assert response.status_code == 200
    assert Membership.objects.filter(team=team_setup["team"], user=invitee).exists()


def test_create_team_page_makes_the_creator_admin(client, user):
    client.force_login(user)
    response = client.post("/teams/", {"name": "Night shoot"}, follow=True)
    assert response.status_code == 200
    assert Membership.objects.get(team__name="Night shoot").role == Role.ADMIN


@pytest.mark.parametrize(
    "next_url,expected",
    [
        ("/headshots/", "/headshots/"),
        ("https://evil.example/phish", "/"),
        ("//evil.example/phish", "/"),
        ("", "/"),
    ],
    ids=["same-site", "other-site", "scheme-relative", "none"],
)
def test_switching_team_returns_to_a_page_of_ours_only(client, team_setup, next_url, expected):
    client.force_login(team_setup["admin"])
    response = client.post("/teams/switch/", {"team_id": team_setup["team"].id, "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == expected
    assert client.session["team_id"] == team_setup["team"].id
