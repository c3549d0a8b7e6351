"""X-Session-Token authentication: one cache read and one query a call, same refusals as allauth."""

from datetime import timedelta

import pytest
from allauth.headless.tokens.strategies.sessions import SessionTokenStrategy
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from accounts.authentication import SessionTokenAuthentication
from accounts.models import User

pytestmark = pytest.mark.django_db

SIGNUP = "/_allauth/app/v1/auth/signup"
SESSION = "/_allauth/app/v1/auth/session"
PASSWORD = "a-long-password-77"


def _token(email="token@example.com") -> str:
    response = APIClient().post(SIGNUP, {"email": email, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["meta"]["session_token"]


def _authenticate(token: str):
    """(user, session), or None when the token is refused."""
    request = Request(APIRequestFactory().get("/api/v1/me", HTTP_X_SESSION_TOKEN=token))
    try:
        return SessionTokenAuthentication().authenticate(request)
    except AuthenticationFailed:
        return None


def _me(token: str):
    return APIClient().get("/api/v1/me", HTTP_X_SESSION_TOKEN=token)


def test_a_token_costs_one_query_with_the_session_cached(django_assert_num_queries):
    token = _token()
    with django_assert_num_queries(1):  # the user; the session comes from the cache
        user, session = _authenticate(token)
    assert user.email == "token@example.com"
    assert session.session_key == token


def test_a_token_costs_two_queries_with_a_cold_cache(django_assert_num_queries):
    token = _token()
    cache.clear()
    with django_assert_num_queries(2):  # the session row, then the user
        user, _ = _authenticate(token)
    assert user.email == "token@example.com"
    with django_assert_num_queries(1):  # the first call put the session back in the cache
        _authenticate(token)


def test_a_malformed_token_is_refused_without_a_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert _authenticate("short") is None
    response = _me("short")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'X-Session-Token realm="api"'


def test_an_unknown_token_is_401_and_creates_no_session():
    before = Session.objects.count()
    response = _me("x" * 32)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert "invalid or has expired" in response.json()["detail"]
    assert Session.objects.count() == before


def test_a_token_is_refused_after_logout():
    token = _token()
    assert _me(token).status_code == 200
    APIClient().delete(SESSION, HTTP_X_SESSION_TOKEN=token)
    assert _me(token).status_code == 401


def test_a_token_is_refused_once_the_user_is_deactivated():
    token = _token()
    User.objects.filter(email="token@example.com").update(is_active=False)
    assert _me(token).status_code == 401


def test_a_token_is_refused_after_a_password_change_elsewhere():
    token = _token()
    user = User.objects.get(email="token@example.com")
    user.set_password("another-long-password-88")
    user.save(update_fields=["password"])
    assert _me(token).status_code == 401
    assert not Session.objects.filter(session_key=token).exists()  # flushed, as Django does


def test_an_expired_session_is_refused():
    token = _token()
    Session.objects.filter(session_key=token).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    cache.clear()
    assert _me(token).status_code == 401


class _CustomStrategy(SessionTokenStrategy):
    lookups: list[str] = []

    def lookup_session(self, session_token):
        self.lookups.append(session_token)
        return super().lookup_session(session_token)


def test_a_custom_token_strategy_keeps_allauths_own_lookup(settings):
    token = _token()
    settings.HEADLESS_TOKEN_STRATEGY = f"{__name__}._CustomStrategy"
    user, _ = _authenticate(token)
    assert user.email == "token@example.com"
    assert _CustomStrategy.lookups == [token]


def test_a_session_signed_with_a_retired_secret_still_authenticates(settings):
    """The compiled fast path only takes a hash equal to the current one; a hash made with
    a key now in SECRET_KEY_FALLBACKS goes through Django's get_user, which accepts it."""
    token = _token()
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    user, _ = _authenticate(token)
    assert user.email == "token@example.com"


def test_a_session_naming_a_backend_no_longer_configured_is_refused(settings):
    token = _token()
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.RemoteUserBackend"]
    assert _authenticate(token) is None
    assert _me(token).status_code == 401


def test_a_session_whose_user_is_gone_is_refused(monkeypatch):
    token = _token()
    # Users are never deleted while the ledger holds their account (PROTECT); a
    # user_for_session that finds no row is what a deleted one would look like.
    monkeypatch.setattr("accounts.authentication.user_for_session", lambda user_id: None)
    assert _authenticate(token) is None
