import pytest
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from tests.common.conftest import redis_url
from tests.conftest import client_for
from tests.threads import race


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


# --- the Redis count (common.cache.RedisCache.rate_hit, common.throttling) ------------


def test_the_redis_window_allows_the_limit_then_refuses_until_the_oldest_hit_leaves(
    redis_caches,
):
    cache, _ = redis_caches
    hits = [cache.rate_hit("caller", limit=3, window=60, now=t) for t in (0.0, 1.0, 2.0)]
    assert hits == [None, None, None]
    assert cache.rate_hit("caller", limit=3, window=60, now=3.0) == pytest.approx(57.0)
    assert cache.rate_hit("caller", limit=3, window=60, now=59.5) == pytest.approx(0.5)
    assert cache.rate_hit("caller", limit=3, window=60, now=60.5) is None  # 0.0 has left
    assert cache.rate_hit("someone-else", limit=3, window=60, now=60.5) is None


def test_parallel_hits_of_one_caller_never_pass_the_limit(redis_caches):
    cache, _ = redis_caches
    results = race(16, lambda i: cache.rate_hit("busy", limit=5, window=60, now=100.0 + i / 1e3))
    assert sum(result is None for result in results) == 5
    assert all(result is None or result > 59 for result in results)


def test_a_count_left_by_drfs_own_throttle_does_not_break_the_redis_one(redis_caches):
    cache, _ = redis_caches
    cache.set("throttle_user_1", [1.0, 2.0])  # DRF's pickled list, before a deploy
    assert cache.rate_hit("throttle_user_1", limit=2, window=60, now=3.0) is None
    assert cache.get("throttle_user_1") == [1.0, 2.0]


@pytest.fixture
def redis_default_cache(settings, redis_caches):
    """The API's default cache on Redis (production's shape), for this test only."""
    ours, _ = redis_caches
    settings.CACHES = {
        "default": {
            "BACKEND": "common.cache.RedisCache",
            "LOCATION": redis_url(),
            "KEY_PREFIX": ours.key_prefix,
        }
    }


def test_signed_in_users_are_throttled_per_user_on_redis_with_retry_after(
    user, tight_rates, redis_default_cache
):
    from django.core.cache import cache

    assert hasattr(cache, "rate_hit")
    client = client_for(user)
    responses = [client.get("/api/v1/me") for _ in range(6)]
    assert [r.status_code for r in responses] == [200] * 5 + [429]
    assert 55 <= int(responses[-1]["Retry-After"]) <= 60


def test_anonymous_callers_are_throttled_per_ip_on_redis(api, db, monkeypatch, redis_default_cache):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/min", "user": "5/min"})
    codes = [api.get("/api/v1/schema/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
