"""E-mail invitations can carry starting credits, like invite links: given from the team
pool when the invitation is accepted, while the pool has them, and never twice."""

import pytest
from django.core import mail
from django.test import Client

from credits import selectors as credits_selectors
from credits import services as credits_services
from teams import services
from teams.models import Invitation, Role
from tests.conftest import client_for
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    team = TeamFactory(name="Acme")
    team.admin = MembershipFactory(team=team, role=Role.ADMIN).user
    return team


def _pool(team, amount: int) -> None:
    credits_services.credits_grant(
        team_id=team.id, amount=amount, category="purchase", key=f"pool:{team.id}:{amount}"
    )


def _invite(team, email="new@example.com", **extra) -> Invitation:
    return services.invitation_create(actor=team.admin, team_id=team.id, email=email, **extra)


def _balance(team, user) -> int:
    return credits_selectors.balance_member(team_id=team.id, user_id=user.id)


def test_accepting_gives_the_invitations_credits_from_the_pool_once(team):
    _pool(team, 10)
    invitation = _invite(team, credits=4)
    newcomer = UserFactory(email="new@example.com")

    joined = services.invitation_accept(key=invitation.key, user=newcomer)
    again = services.invitation_accept(key=invitation.key, user=newcomer)

    assert (joined.joined, joined.credits_given, joined.credits_offered) == (True, 4, 4)
    assert (again.joined, again.credits_given) == (False, 0)
    assert _balance(team, newcomer) == 4
    assert credits_selectors.balance_pool(team_id=team.id) == 6
    (line,) = credits_selectors.history_for_user(user_id=newcomer.id, category="allocation")
    assert (line.amount, line.transaction.memo) == (4, "Starting credits from an invitation")
    assert line.transaction.actor_id == team.admin.id
    assert credits_selectors.ledger_audit().clean


def test_a_short_pool_does_not_stop_anyone_joining(team):
    _pool(team, 3)
    invitation = _invite(team, credits=4)
    newcomer = UserFactory(email="new@example.com")
    joined = services.invitation_accept(key=invitation.key, user=newcomer)
    assert (joined.joined, joined.credits_given, joined.credits_offered) == (True, 0, 4)
    assert _balance(team, newcomer) == 0
    assert credits_selectors.balance_pool(team_id=team.id) == 3


def test_someone_already_in_the_team_gets_no_invitation_credits(team):
    _pool(team, 10)
    invitation = _invite(team, credits=4)
    newcomer = UserFactory(email="new@example.com")
    link = services.invite_link_create(actor=team.admin, team_id=team.id)
    services.invite_link_join(key=link.key, user=newcomer)  # joined another way meanwhile

    joined = services.invitation_accept(key=invitation.key, user=newcomer)

    assert (joined.joined, joined.credits_given) == (False, 0)
    assert _balance(team, newcomer) == 0


@pytest.mark.parametrize("credits", [-1, 101])
def test_starting_credits_out_of_range_are_refused(team, credits):
    with pytest.raises(services.ApplicationError) as refused:
        _invite(team, credits=credits)
    assert refused.value.code == "invalid_credits"
    assert not Invitation.objects.exists()


def test_the_email_says_what_the_invitation_brings(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _invite(team, credits=6)
        _invite(team, email="plain@example.com")
    with_credits, plain = mail.outbox
    assert "with 6 credits to start while the team's pool has them" in with_credits.body
    assert "credits" not in plain.body


# --- API -------------------------------------------------------------------------------------


def test_api_invites_with_credits_and_lists_them(team):
    admin = client_for(team.admin)
    url = f"/api/v1/teams/{team.id}/invitations"
    made = admin.post(url, {"email": "new@example.com", "credits": 5}, format="json")
    assert made.status_code == 201 and made.json()["credits"] == 5
    assert [i["credits"] for i in admin.get(url).json()["results"]] == [5]
    default = admin.post(url, {"email": "other@example.com"}, format="json")
    assert default.json()["credits"] == 0


@pytest.mark.parametrize("credits", [-1, 101, "many"])
def test_api_bad_starting_credits_are_400(team, credits):
    response = client_for(team.admin).post(
        f"/api/v1/teams/{team.id}/invitations",
        {"email": "new@example.com", "credits": credits},
        format="json",
    )
    assert response.status_code == 400
    assert "credits" in response.json()["fields"]


def test_api_accept_gives_the_credits(team):
    _pool(team, 10)
    invitation = _invite(team, credits=3)
    newcomer = UserFactory(email="new@example.com")
    response = client_for(newcomer).post(f"/api/v1/invitations/{invitation.key}/accept")
    assert response.status_code == 200 and response.json()["id"] == team.id
    assert _balance(team, newcomer) == 3


# --- pages -----------------------------------------------------------------------------------


def _browser(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def test_the_team_page_invites_with_credits_and_lists_them(team):
    response = _browser(team.admin).post(
        f"/teams/{team.id}/invite/",
        {"email": "new@example.com", "role": "member", "credits": "7"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert Invitation.objects.get().credits == 7
    html = response.content.decode()
    assert 'data-label="Starting credits" class="num">7<' in html


def test_the_team_page_refuses_credits_out_of_range(team):
    response = _browser(team.admin).post(
        f"/teams/{team.id}/invite/",
        {"email": "new@example.com", "role": "member", "credits": "500"},
        HTTP_HX_REQUEST="true",
    )
    assert "less than or equal to 100" in response.content.decode()
    assert not Invitation.objects.exists()


def test_the_invitation_page_says_what_a_newcomer_gets_and_got(team):
    _pool(team, 5)
    invitation = _invite(team, credits=5)
    browser = _browser(UserFactory(email="new@example.com"))
    url = f"/teams/invitations/{invitation.key}/"
    assert "You get 5 credits from the team's pool" in browser.get(url).content.decode()
    browser.post(url)
    assert "Welcome to Acme. You have 5 credits to start." in browser.get("/").content.decode()
