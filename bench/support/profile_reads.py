"""Profile the member's reads in process, with the load server's settings (DEBUG off,
Redis cache, PostgreSQL): per endpoint the wall and CPU time a request, its queries and
cache calls, then what the parts cost on their own. Not part of `make bench`.

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/portrait \\
     .venv/bin/python bench/support/profile_reads.py [--sql] [--cprofile status|history|config]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadkit

MEDIA = tempfile.mkdtemp(prefix="bench-profile-")
loadkit.configure(MEDIA)

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

MEMBERS = 16  # requests rotate over them: one member would hit the per-user throttle


def _timed(function, n: int) -> tuple[float, float, float]:
    """Wall, CPU and database CPU milliseconds a call."""
    for _ in range(min(n, 20)):
        function()
    database = loadkit.backend_cpu_seconds()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        function()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall / n * 1000, cpu / n * 1000, (loadkit.backend_cpu_seconds() - database) / n * 1000


class _CacheCalls:
    """Counts cache round trips (each one is a Redis command in production)."""

    def __init__(self):
        self.calls = 0

    def __enter__(self):
        self.saved = {}
        for name in ("get", "set", "add", "delete", "get_many", "set_many", "incr", "has_key"):
            original = getattr(cache, name)
            self.saved[name] = original

            def counted(*args, _original=original, **kwargs):
                self.calls += 1
                return _original(*args, **kwargs)

            setattr(cache, name, counted)
        return self

    def __exit__(self, *exc):
        for name, original in self.saved.items():
            setattr(cache, name, original)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sql", action="store_true", help="print each endpoint's queries")
    parser.add_argument(
        "--cprofile", choices=["floor", "api floor", "status", "history", "config"], default=None
    )
    parser.add_argument("-n", type=int, default=300, help="requests per measurement")
    parser.add_argument("--sort", default="cumulative", help="cProfile order: cumulative, tottime")
    options = parser.parse_args()

    setup_test_environment()
    old_name = loadkit.use_database("profile")
    try:
        photo = loadkit.face_photo()
        _, members = loadkit.seed_members(count=MEMBERS, photo=photo, workdir=Path(MEDIA))
        rows = [line.split("\t") for line in members.read_text().splitlines()]
        client = Client(HTTP_HOST="127.0.0.1")
        turn = [0]

        def get(path: str):
            turn[0] += 1
            token, generation_id = rows[turn[0] % len(rows)]
            response = client.get(path.format(id=generation_id), HTTP_X_SESSION_TOKEN=token)
            assert response.status_code == 200, (path, response.status_code, response.content)
            return response

        endpoints = {
            "floor": "/floor",
            "api floor": "/floor/api",
            "status": "/api/v1/headshots/{id}",
            "history": f"/api/v1/headshots?page_size={loadkit.HISTORY}",
            "config": "/api/v1/headshots/config",
        }
        print(
            f"{'endpoint':12} {'wall ms':>8} {'cpu ms':>8} {'db ms':>6} {'queries':>8}"
            f" {'cache':>6} {'bytes':>7}"
        )
        for label, path in endpoints.items():
            get(path)
            with CaptureQueriesContext(connection) as queries, _CacheCalls() as calls:
                response = get(path)
            captured = list(queries.captured_queries)  # the next request clears the log
            wall, cpu, database = _timed(lambda path=path: get(path), options.n)
            print(
                f"{label:12} {wall:8.2f} {cpu:8.2f} {database:6.2f} {len(captured):8d}"
                f" {calls.calls:6d}"
                f" {len(response.content):7d}"
            )
            if options.sql:
                for query in captured:
                    print(f"    {query['sql'][:160]}")
            if options.cprofile == label:
                profile = cProfile.Profile(time.process_time)
                profile.enable()
                for _ in range(options.n):
                    get(path)
                profile.disable()
                out = io.StringIO()
                pstats.Stats(profile, stream=out).sort_stats(options.sort).print_stats(50)
                print(out.getvalue())
        _parts(rows)
    finally:
        loadkit.redis_cleanup()
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=True)
        shutil.rmtree(MEDIA, ignore_errors=True)


def _parts(rows) -> None:
    """The pieces of a read, each timed alone (CPU ms a call)."""
    from django.contrib.sessions.backends.cached_db import SessionStore
    from django.test import RequestFactory
    from rest_framework.renderers import JSONRenderer
    from rest_framework.request import Request

    from accounts.authentication import SessionTokenAuthentication
    from accounts.models import User
    from common.throttling import UserRateThrottle
    from headshots import selectors
    from headshots.apis import GenerationSerializer

    token, generation_id = rows[0]
    user = User.objects.get(pk=SessionStore(token).load()["_auth_user_id"])
    factory = RequestFactory(HTTP_HOST="127.0.0.1")

    def authenticate():
        request = Request(factory.get("/", HTTP_X_SESSION_TOKEN=token))
        return SessionTokenAuthentication().authenticate(request)

    def throttle():
        request = Request(factory.get("/"))
        request.user = user
        return UserRateThrottle().allow_request(request, None)

    # what the API reads with: the answer's columns only (full rows before they existed)
    get_one = getattr(selectors, "headshot_get_answer", selectors.headshot_get)
    listed = getattr(selectors, "headshot_list_answer", selectors.headshot_list)
    generation = get_one(user=user, generation_id=generation_id)
    page = list(listed(user=user)[:20])
    one = GenerationSerializer(generation).data
    many = GenerationSerializer(page, many=True).data
    parts = {
        "auth: X-Session-Token (cache + user query)": authenticate,
        "throttle: per user (the API's own)": throttle,
        "cache: one get": lambda: cache.get("nothing"),
        f"status: {get_one.__name__} (2 queries)": lambda: get_one(
            user=user, generation_id=generation_id
        ),
        "status: serialise one generation": lambda: GenerationSerializer(generation).data,
        "status: render JSON": lambda: JSONRenderer().render(one),
        "history: count": lambda: listed(user=user).count(),
        "history: page of 20 (2 queries)": lambda: list(listed(user=user)[:20]),
        "history: serialise 20": lambda: GenerationSerializer(page, many=True).data,
        "history: render JSON": lambda: JSONRenderer().render(many),
    }
    if hasattr(selectors, "style_catalogue"):  # absent before the style list was cached
        parts["config: style catalogue (1 query)"] = lambda: selectors.style_catalogue(
            team=page[0].team
        )
    print(f"\n{'part':46} {'wall ms':>8} {'cpu ms':>8} {'db ms':>6}")
    for label, function in parts.items():
        wall, cpu, database = _timed(function, 300)
        print(f"{label:46} {wall:8.3f} {cpu:8.3f} {database:6.3f}")


if __name__ == "__main__":
    main()
