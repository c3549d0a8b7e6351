"""The API's rate limits: DRF's throttles, counted in one Redis round trip.

DRF keeps each caller's recent request times as a pickled list in the cache: a get and a
set every request (two round trips, and a list of up to the limit's length unpickled and
pickled again), and two parallel requests can both read the same list and count once. On
our Redis cache (`common.cache.RedisCache`) the same sliding window is one atomic script
(`rate_hit`); any other cache (local memory in development and tests) keeps DRF's way.
The rates, scopes, cache keys and 429 answers are DRF's.
"""

from __future__ import annotations

from rest_framework import throttling


class _CountedInOneRoundTrip:
    _wait: float | None = None

    def allow_request(self, request, view) -> bool:
        rate_hit = getattr(self.cache, "rate_hit", None)
        if rate_hit is None:
            return super().allow_request(request, view)
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self._wait = rate_hit(key, limit=self.num_requests, window=self.duration, now=self.timer())
        return self._wait is None

    def wait(self) -> float | None:
        if getattr(self.cache, "rate_hit", None) is None:
            return super().wait()
        return self._wait


class AnonRateThrottle(_CountedInOneRoundTrip, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(_CountedInOneRoundTrip, throttling.UserRateThrottle):
    pass
