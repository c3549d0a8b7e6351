"""Django's Redis cache, keeping its `redis.Redis` client instead of building one a call.

`django.core.cache.backends.redis.RedisCacheClient.get_client()` wraps the connection
pool in a new `redis.Redis` for every cache call, and redis-py 8 builds a dict of ~170
response callbacks in each constructor: about 50 us a call, three to five calls an API
request (session, throttle, style list). The pool, the connections and the commands sent
are Django's own; only the wrapper is kept.

Fork (gunicorn workers, Celery prefork) and threads: the kept client holds nothing but the
pool (no connection of its own: it is never a `single_connection_client`). redis-py's
`ConnectionPool` checks the process id on every checkout and release, and a child process
drops the connections it inherited and opens its own (`ConnectionPool._checkpid`); the
parent's sockets are never shut down from the child (`Connection.disconnect` compares the
pid too). A `redis.Redis` over a pool is safe to share between threads, and Django keeps
one cache object per thread anyway (`django.core.cache.caches` is thread-local).
"""

from __future__ import annotations

import secrets

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient

# A sliding-window log in one sorted set a key: forget hits older than the window, and
# count this one if fewer than the limit remain. One round trip, and atomic, so parallel
# requests of one caller cannot both read the same count (DRF's cache get + set can).
# Allowed: nil. Refused: the seconds until the oldest counted hit leaves the window.
_RATE_HIT = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
  return false
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring(tonumber(oldest[2]) + window - now)
"""


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._rate_scripts = {}

    def get_client(self, key=None, *, write=False):
        # The same server as Django picks (writes: the first; reads: any other when there
        # are several), and that server's pool, as Django builds it; one client a pool.
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:
                self._pools[index] = self._pool_class.from_url(
                    self._servers[index], **self._pool_options
                )
            # Two threads racing here build two clients over the same pool: harmless.
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client

    def rate_hit(self, key: str, *, limit: int, window: float, now: float) -> float | None:
        client = self.get_client(key, write=True)
        script = self._rate_scripts.get(id(client))
        if script is None:
            script = self._rate_scripts[id(client)] = client.register_script(_RATE_HIT)
        member = f"{now:.6f}:{secrets.token_hex(4)}"
        wait = script(keys=[key], args=[repr(now), repr(window), limit, member])
        return None if wait is None else max(0.0, float(wait))


class RedisCache(DjangoRedisCache):
    """`django.core.cache.backends.redis.RedisCache` with a kept client: same LOCATION,
    OPTIONS, keys and values."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient

    def rate_hit(self, key: str, *, limit: int, window: float, now: float) -> float | None:
        """Count a request against `limit` per trailing `window` seconds (the API's
        throttles): None if it is allowed, else the seconds until one more would be."""
        # A name of its own: DRF's count for the same caller is a pickled list (a sorted
        # set under its key would fail the other code during a deploy).
        return self._cache.rate_hit(
            self.make_and_validate_key(f"rate-window:{key}"), limit=limit, window=window, now=now
        )
