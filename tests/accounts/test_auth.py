import pytest
from rest_framework.test import APIClient

from accounts.models import User
from credits import selectors as credits_selectors
from teams.models import Team

pytestmark = pytest.mark.django_db

SIGNUP = "/_allauth/app/v1/auth/signup"
LOGIN = "/_allauth/app/v1/auth/login"


def _signup(client, email="mobile@example.com", password="a-long-password-77"):
    return client.post(SIGNUP, {"email": email, "password": password}, format="json")


def test_mobile_signup_returns_a_session_token_that_the_api_accepts(settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "optional"
    client = APIClient()
    response = _signup(client)
    assert response.status_code == 200, response.content
    token = response.json()["meta"]["session_token"]

    me = APIClient().get("/api/v1/me", HTTP_X_SESSION_TOKEN=token)
    assert me.status_code == 200
    assert me.json()["email"] == "mobile@example.com"


def test_signup_creates_a_personal_team_with_the_bonus(settings):
    settings.CREDITS_SIGNUP_BONUS = 10
    _signup(APIClient(), email="new@example.com")
    user = User.objects.get(email="new@example.com")
    team = Team.objects.get(is_personal=True, memberships__user=user)
    assert credits_selectors.balance_member(team_id=team.id, user_id=user.id) == 10


def test_mobile_login_with_the_right_password_gives_a_token():
    _signup(APIClient(), email="back@example.com")
    response = APIClient().post(
        LOGIN, {"email": "back@example.com", "password": "a-long-password-77"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["meta"]["session_token"]


def test_mobile_login_with_a_wrong_password_is_refused():
    _signup(APIClient(), email="back@example.com")
    response = APIClient().post(
        LOGIN, {"email": "back@example.com", "password": "nope-nope-nope"}, format="json"
    )
    assert response.status_code == 400


def test_api_without_credentials_is_401_json():
    response = APIClient().get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_api_with_a_bogus_session_token_is_refused():
    response = APIClient().get("/api/v1/me", HTTP_X_SESSION_TOKEN="bogus")
    assert response.status_code in (401, 403)


def test_me_lists_teams_with_role_and_own_balance():
    client = APIClient()
    token = _signup(client, email="me@example.com").json()["meta"]["session_token"]
    data = APIClient().get("/api/v1/me", HTTP_X_SESSION_TOKEN=token).json()
    assert data["total_balance"] == 10
    assert data["credits_spent"] == 0
    assert data["headshots_generated"] == 0
    assert [(t["is_personal"], t["role"], t["balance"]) for t in data["teams"]] == [
        (True, "admin", 10)
    ]


def test_browser_signup_page_and_login_page_render(client):
    assert client.get("/accounts/signup/").status_code == 200
    assert client.get("/accounts/login/").status_code == 200


def test_browser_signup_creates_account_and_lands_on_dashboard(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "web@example.com",
            "password1": "a-long-password-77",
            "password2": "a-long-password-77",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert b"Welcome" in response.content
    assert User.objects.filter(email="web@example.com").exists()


def test_a_wrong_password_is_an_error_not_fine_print(client):
    """allauth's default layout printed errors like help text above the fields."""
    html = client.post(
        "/accounts/login/", {"login": "nobody@example.com", "password": "wrong-one-123"}
    ).content.decode()
    assert 'class="flash flash-error" role="alert"' in html
    assert "<h1>Sign in</h1>" in html and "Sign In" not in html


def test_signup_errors_sit_under_their_field(client):
    html = client.post(
        "/accounts/signup/",
        {"email": "not-an-email", "password1": "a-long-password-77", "password2": "other-77x"},
    ).content.decode()
    email = html.split('<label for="id_email">', 1)[1].split("</div>", 1)[0]
    assert '<p class="error" role="alert">' in email
    assert 'class="field has-error"' in html
    assert "Sign Up" not in html
