"""common.cache.RedisCache: Django's Redis cache with one kept client, wired from
CACHE_URL, safe across fork (gunicorn and Celery prefork workers) and threads."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.threads import race

ROOT = Path(__file__).resolve().parents[2]


def _settings_caches(cache_url: str) -> dict:
    """CACHES as config.settings builds it from this CACHE_URL (a fresh interpreter)."""
    env = {**os.environ, "CACHE_URL": cache_url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json; from django.conf import settings; print(json.dumps(settings.CACHES))",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["default"]


def test_a_redis_cache_url_uses_the_kept_client_backend_and_nothing_else_changes():
    assert _settings_caches("redis://127.0.0.1:6379/3") == {
        "BACKEND": "common.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/3",
    }
    assert _settings_caches("rediss://a:6379/1,rediss://b:6379/1?timeout=30") == {
        "BACKEND": "common.cache.RedisCache",
        "LOCATION": "rediss://a:6379/1,rediss://b:6379/1",
        "OPTIONS": {},
        "TIMEOUT": 30,
    }
    assert _settings_caches("locmemcache://") == {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "",
    }


def test_a_redis_cache_url_keeps_its_key_prefix_and_timeout():
    # django-environ hands these over in lower case, which Django's Redis backend ignores:
    # two environments sharing one Redis would then read each other's keys.
    cache = _settings_caches("redis://127.0.0.1:6379/3?key_prefix=staging&timeout=30")
    assert cache["KEY_PREFIX"] == "staging"
    assert cache["TIMEOUT"] == 30
    assert "key_prefix" not in cache and "timeout" not in cache


def test_every_call_uses_the_same_client_where_django_builds_one_a_call(redis_caches):
    ours, django = redis_caches
    assert ours._cache.get_client() is ours._cache.get_client(write=True)
    assert django._cache.get_client() is not django._cache.get_client()
    # ... over the same pool, and so the same connection, call after call
    ours.set("warm", 1)
    client_id = ours._cache.get_client().client_id()
    for n in range(5):
        ours.set(f"k{n}", n)
    assert ours._cache.get_client().client_id() == client_id


def test_it_reads_and_writes_exactly_what_djangos_backend_does(redis_caches):
    ours, django = redis_caches
    django.set("row", {"a": [1, 2]})
    django.set("count", 5)
    assert ours.get("row") == {"a": [1, 2]}
    assert ours.incr("count", 2) == 7
    assert django.get("count") == 7
    ours.set_many({"x": "1", "y": b"2"})
    assert django.get_many(["x", "y", "absent"]) == {"x": "1", "y": b"2"}
    assert ours.add("x", "other") is False
    assert ours.delete("x") is True
    assert django.get("x") is None
    with pytest.raises(ValueError):
        ours.incr("absent")


def test_a_forked_child_opens_its_own_connection_and_leaves_the_parents_alone(redis_caches):
    """gunicorn and Celery prefork fork after the parent may have used the cache: the
    child must not talk on the parent's socket (answers would cross)."""
    ours, _ = redis_caches
    ours.set("before-fork", "parent")
    client = ours._cache.get_client()
    parent_id = client.client_id()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report and leave without running pytest's teardown
        try:
            os.close(read)
            result = {
                "read": ours.get("before-fork"),
                "same_client": ours._cache.get_client() is client,
                "client_id": client.client_id(),
            }
            ours.set("from-child", "child")
            os.write(write, json.dumps(result).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = json.loads(pipe.read() or "{}")
    os.waitpid(pid, 0)
    assert child == {"read": "parent", "same_client": True, "client_id": child["client_id"]}
    assert child["client_id"] != parent_id
    # the parent's connection survived the child (no shutdown, no crossed answers)
    assert client.client_id() == parent_id
    assert ours.get("from-child") == "child"


def test_threads_sharing_one_client_each_get_their_own_answers(redis_caches):
    ours, _ = redis_caches
    ours.get("warm")  # the client exists before the threads start: they all share it

    def work(i: int):
        for n in range(50):
            ours.set(f"t{i}", f"{i}-{n}")
            assert ours.get(f"t{i}") == f"{i}-{n}"
        return ours._cache.get_client()

    results = race(8, work)
    assert all(result is results[0] for result in results), results
