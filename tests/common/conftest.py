"""Fixtures for the shared plumbing's tests that need a real Redis."""

import os
import uuid

import pytest
import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

from common.cache import RedisCache
from tests.conftest import REQUIRE_SERVICES


def redis_url() -> str:
    broker = os.environ.get("CELERY_BROKER_URL", "")
    url = broker if broker.startswith("redis") else "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_timeout=2).ping()
    except redis.ConnectionError:
        if REQUIRE_SERVICES:
            pytest.fail(f"Redis is required in CI but not reachable at {url}")
        pytest.skip(f"needs Redis at {url}")
    return url


@pytest.fixture
def redis_caches():
    """Ours and Django's on the same server and a key prefix of this test's own (the
    database is shared: only this prefix is deleted afterwards)."""
    url = redis_url()
    prefix = f"test-cache-{uuid.uuid4().hex[:12]}"
    params = {"KEY_PREFIX": prefix, "TIMEOUT": 60}
    ours, django = RedisCache(url, params), DjangoRedisCache(url, params)
    yield ours, django
    raw = redis.Redis.from_url(url)
    for key in raw.scan_iter(match=f"{prefix}:*"):
        raw.delete(key)
