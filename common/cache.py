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

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

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


class RedisCache(DjangoRedisCache):
    """`django.core.cache.backends.redis.RedisCache` with a kept client: same LOCATION,
    OPTIONS, keys and values."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
