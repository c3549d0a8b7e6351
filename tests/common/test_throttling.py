import pytest
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from tests.conftest import client_for


@pytest.fixture
def tight_rates(settings, monkeypatch):
    rates = {"anon": "3/min", "user": "5/min", "submit": "2/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    return rates


def test_anonymous_callers_of_public_endpoints_are_throttled_per_ip(api, monkeypatch, db):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "1/min", "user": "5/min"})
    assert api.get("/api/v1/schema/").status_code == 200
    response = api.get("/api/v1/schema/")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0


def _login(api, email, password):
    return api.post(
        "/_allauth/app/v1/auth/login", {"email": email, "password": password}, format="json"
    )


def test_repeated_failed_logins_lock_the_account_even_for_the_right_password(api, user):
    for _ in range(5):
        assert _login(api, user.email, "wrong-password").status_code == 400
    response = _login(api, user.email, "correct-horse-42")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "too_many_login_attempts"


def test_login_attempts_from_one_ip_are_throttled_with_429(api, user, settings):
    settings.ACCOUNT_RATE_LIMITS = {"login": "3/m/ip"}
    codes = [_login(api, user.email, "wrong-password").status_code for _ in range(4)]
    assert codes == [400, 400, 400, 429]


def test_signed_in_users_are_throttled_per_user(user, tight_rates):
    client = client_for(user)
    codes = [client.get("/api/v1/me").status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]


def test_submits_have_their_own_tighter_limit_but_reads_do_not_count(user, tight_rates, media):
    client = client_for(user)
    client.get("/api/v1/headshots")  # a read: not a submit
    codes = [
        client.post("/api/v1/headshots", {"style": "corporate"}, format="multipart").status_code
        for _ in range(3)
    ]
    assert codes[:2] == [400, 400]  # refused for the missing photo, but counted
    assert codes[2] == 429


def test_default_rates_are_configured():
    assert set(api_settings.DEFAULT_THROTTLE_RATES) >= {"anon", "user", "submit"}


def test_a_forged_x_forwarded_for_does_not_dodge_the_anonymous_limit(api, monkeypatch, db):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/min", "user": "5/min"})
    codes = [
        api.get("/api/v1/schema/", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
        for n in range(3)
    ]
    assert codes == [200, 200, 429]


def test_forged_x_forwarded_for_does_not_dodge_the_login_limit(api, user, settings):
    settings.ACCOUNT_RATE_LIMITS = {"login": "2/m/ip"}
    codes = [
        api.post(
            "/_allauth/app/v1/auth/login",
            {"email": user.email, "password": "wrong-password"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        ).status_code
        for n in range(3)
    ]
    assert codes == [400, 400, 429]
