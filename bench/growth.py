"""Growth (tracker issue 9): the member's reads at 1,000 and at 100,000 generations.

One member with 20 finished generations and their ledger lines (holds and captures
through the credits services) reads their status, a history page of 20 with images and
their credit history while other members' rows pile up around them: 1,000 generations
in the table, then 100,000, each with a delivered image and its capture in the ledger
(member -> spend, two entries: a hold posts nothing since holds became reservations),
inserted in bulk by SQL (generate_series) and VACUUM ANALYZEd as
autovacuum would. The floor is the same read at 1,000: the ratio 100k/1k should stay
about 1.0 (target <= 1.2), because every read goes through an index on the member
(tests/common/test_indexes.py and tests/headshots/test_growth_indexes.py show the plans).

Each read is timed in process with the load server's settings (DEBUG off, Redis cache,
the X-Session-Token): the median request, and the time PostgreSQL takes to execute the
request's own SQL (EXPLAIN ANALYZE), so a plan that degrades shows even when Python
time hides it.

Needs PostgreSQL and Redis. Uses a test database of its own (test_<name>_growth, kept).
Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/portrait .venv/bin/python bench/growth.py
Knobs: BENCH_GROWTH_SIZES (1000,100000), BENCH_GROWTH_ROUNDS (200).
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "bench" / "support")]

import loadkit  # noqa: E402

MEDIA = tempfile.mkdtemp(prefix="bench-growth-")
loadkit.configure(MEDIA)

import django  # noqa: E402

django.setup()

from _common import print_header, print_row  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

SIZES = [int(n) for n in os.environ.get("BENCH_GROWTH_SIZES", "1000,100000").split(",")]
ROUNDS = int(os.environ.get("BENCH_GROWTH_ROUNDS", "200"))
OTHERS = 300  # other members whose rows fill the tables
TARGET = "~1.0 (<= 1.2)"


def _seed_member(photo: bytes):
    """The member whose reads are timed: 20 generations with images, and for each a hold
    and a capture through the ledger services. Returns (token, latest generation id)."""
    from accounts.services import user_create
    from credits import services as credits_services
    from headshots import engine
    from headshots.models import GeneratedImage, HeadshotGeneration, HeadshotStyle
    from headshots.styles_seed import seed_styles
    from teams.selectors import team_personal_for_user

    seed_styles(HeadshotStyle)
    style = HeadshotStyle.objects.get(slug="corporate")
    user = user_create(email="grower@example.com", password=None)
    team = team_personal_for_user(user=user)
    credits_services.credits_grant(
        team_id=team.id,
        user_id=user.id,
        amount=1000,
        category=credits_services.Category.PURCHASE,
        key="growth:grant:member",
    )
    generations, images = loadkit.history_rows(
        user=user,
        team=team,
        style=style,
        count=loadkit.HISTORY,
        inspection=engine.inspect(photo).as_dict(),
        files=loadkit.image_files(),
    )
    HeadshotGeneration.objects.bulk_create(generations)
    GeneratedImage.objects.bulk_create(images)
    for generation in generations:
        key = f"headshot:{generation.pk}:run1"
        credits_services.credits_hold(
            team_id=team.id,
            user_id=user.id,
            amount=3,
            key=key,
            category=credits_services.Category.HEADSHOT,
            reference=f"headshot:{generation.pk}",
        )
        credits_services.credits_capture(hold_key=key, amount=3, key=f"{key}:capture:0")
    # Older than every other row: a plan that walks the table by time instead of going
    # to the member's rows would pass all the others first, and show it at 100k.
    HeadshotGeneration.objects.filter(user=user).update(
        created_at=timezone.now() - timedelta(days=400)
    )
    return loadkit.session_token(user), generations[-1].pk


def _seed_others() -> tuple[list[int], list[int]]:
    """Other members, each with a personal team and credits: (user ids, team ids)."""
    from accounts.services import user_create
    from credits import services as credits_services
    from teams.selectors import team_personal_for_user

    users, teams = [], []
    for n in range(OTHERS):
        user = user_create(email=f"other{n}@example.com", password=None)
        team = team_personal_for_user(user=user)
        credits_services.credits_grant(
            team_id=team.id,
            user_id=user.id,
            amount=1_000_000,
            category=credits_services.Category.PURCHASE,
            key=f"growth:grant:{user.id}",
        )
        users.append(user.id)
        teams.append(team.id)
    return users, teams


def _columns(model, **replace: str) -> tuple[str, str]:
    """The insert column list and a SELECT list copying row `t`, some columns replaced."""
    qn = connection.ops.quote_name
    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    select = [replace.get(column, f"t.{qn(column)}") for column in columns]
    return ", ".join(qn(c) for c in columns), ", ".join(select)


def _grow(to: int, others: tuple[list[int], list[int]]) -> float:
    """Insert other members' generations until the table holds `to`; each gets an image,
    and a hold and a capture of 3 credits in the ledger. Returns the seconds it took."""
    from credits import services as credits_services
    from credits.models import Account, Entry, Transaction
    from headshots.models import GeneratedImage, HeadshotGeneration

    started = time.monotonic()
    generation_table = HeadshotGeneration._meta.db_table
    image_table = GeneratedImage._meta.db_table
    tx_table, entry_table = Transaction._meta.db_table, Entry._meta.db_table
    spend = credits_services.account_system(credits_services.SystemAccount.SPEND).pk
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*), MAX(id) FROM {generation_table}")
        have, last_generation = cursor.fetchone()
        if to <= have:
            return 0.0
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {tx_table}")
        (last_tx,) = cursor.fetchone()
        cursor.execute(f"SELECT MIN(id) FROM {generation_table}")
        (template,) = cursor.fetchone()
        columns, select = _columns(
            HeadshotGeneration,
            user_id="(%(users)s::bigint[])[1 + g %% %(n)s]",
            team_id="(%(teams)s::bigint[])[1 + g %% %(n)s]",
            created_at="now() - g * interval '13 seconds'",
            updated_at="now() - g * interval '13 seconds'",
            finished_at="now() - g * interval '13 seconds'",
        )
        cursor.execute(
            f"INSERT INTO {generation_table} ({columns}) SELECT {select}"
            f" FROM {generation_table} t CROSS JOIN generate_series(1, %(count)s) g"
            " WHERE t.id = %(template)s",
            {
                "users": others[0],
                "teams": others[1],
                "n": len(others[0]),
                "count": to - have,
                "template": template,
            },
        )
        columns, select = _columns(GeneratedImage, generation_id="g.id", seed="g.id")
        cursor.execute(
            f"INSERT INTO {image_table} ({columns}) SELECT {select}"
            f" FROM {image_table} t CROSS JOIN {generation_table} g"
            " WHERE t.id = (SELECT MIN(id) FROM " + image_table + ") AND g.id > %s",
            [last_generation],
        )
        cursor.execute(
            f"INSERT INTO {tx_table}"
            " (idempotency_key, kind, category, team_id, memo, reference, metadata, created_at)"
            " SELECT 'growth:capture:' || g.id, 'capture', 'headshot', g.team_id, '',"
            " 'headshot:' || g.id, '{}', g.created_at"
            f" FROM {generation_table} g"
            " WHERE g.id > %s ORDER BY g.id",
            [last_generation],
        )
        cursor.execute(
            f"INSERT INTO {entry_table} (transaction_id, account_id, amount)"
            " SELECT t.id, leg.account_id, leg.amount"
            f" FROM {tx_table} t"
            f" JOIN {generation_table} g ON t.reference = 'headshot:' || g.id"
            f" JOIN {Account._meta.db_table} a"
            "   ON a.kind = 'member' AND a.team_id = g.team_id AND a.user_id = g.user_id"
            " CROSS JOIN LATERAL (VALUES (a.id, -3), (%(spend)s, 3)) leg(account_id, amount)"
            " WHERE t.id > %(last_tx)s AND g.id > %(last_generation)s",
            {
                "spend": spend,
                "last_tx": last_tx,
                "last_generation": last_generation,
            },
        )
        # cached balances follow their entries, as the ledger service keeps them
        cursor.execute(
            f"UPDATE {Account._meta.db_table} a SET balance = s.total"
            f" FROM (SELECT account_id, SUM(amount) AS total FROM {entry_table}"
            "       GROUP BY account_id) s"
            " WHERE s.account_id = a.id AND a.balance <> s.total"
        )
        for table in (generation_table, image_table, tx_table, entry_table):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return time.monotonic() - started


def _measure(token: str, generation_id: int) -> dict[str, tuple[float, float]]:
    """Per read: the median request (ms, wall clock: what the member waits), and the
    median time PostgreSQL takes to execute the request's statements (EXPLAIN ANALYZE
    "Execution Time", summed; ms)."""
    client = Client(HTTP_HOST="127.0.0.1")
    reads = {
        "status poll": f"/api/v1/headshots/{generation_id}",
        "history page of 20 with images": f"/api/v1/headshots?page_size={loadkit.HISTORY}",
        "credit history page": "/api/v1/credits/history",
    }
    statements = {}
    for label, path in reads.items():
        for _ in range(10):
            client.get(path, HTTP_X_SESSION_TOKEN=token)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path, HTTP_X_SESSION_TOKEN=token)
        assert response.status_code == 200, (path, response.status_code, response.content)
        statements[label] = [q["sql"] for q in captured.captured_queries]
    # Each read in a block of its own: a request right after a slow one runs on cold
    # caches (PostgreSQL had the core) and would be charged for it.
    wall = {label: [] for label in reads}
    for label, path in reads.items():
        for _ in range(ROUNDS):
            started = time.perf_counter()
            client.get(path, HTTP_X_SESSION_TOKEN=token)
            wall[label].append((time.perf_counter() - started) * 1000)
    database = {label: [] for label in reads}
    with connection.cursor() as cursor:
        for _ in range(max(ROUNDS // 4, 10)):
            for label, sqls in statements.items():
                total = 0.0
                for sql in sqls:
                    cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
                    total += cursor.fetchone()[0][0]["Execution Time"]
                database[label].append(total)
    return {
        label: (statistics.median(wall[label]), statistics.median(database[label]))
        for label in reads
    }


def main() -> None:
    setup_test_environment()
    if connection.vendor != "postgresql":
        print("growth: skipped, needs PostgreSQL (set DATABASE_URL=postgres://...)")
        return
    if not loadkit.redis_ready():
        print(f"growth: skipped, no Redis at {loadkit.redis_url()} (BENCH_REDIS_URL)")
        return
    old_name = loadkit.use_database("growth")
    try:
        token, generation_id = _seed_member(loadkit.face_photo())
        others = _seed_others()
        results = []
        for size in SIZES:
            seconds = _grow(size, others)
            print(f"growth: {size:,} generations ({seconds:.1f} s to insert)", file=sys.stderr)
            loadkit.redis_cleanup()  # per-user throttle counts start afresh at each size
            results.append(_measure(token, generation_id))
        small, large = results[0], results[-1]
        print_header()
        for label, (request_ms, sql_ms) in large.items():
            print_row(
                f"{label} at {SIZES[-1] // 1000}k gens (vs {SIZES[0] // 1000}k)",
                request_ms,
                small[label][0],
                "ms",
                TARGET,
            )
            print_row(
                f"  its SQL in PostgreSQL at {SIZES[-1] // 1000}k",
                sql_ms * 1000,
                small[label][1] * 1000,
                "us",
                "< 1000 us (by index)",
            )
    finally:
        loadkit.redis_cleanup()
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=True)
        shutil.rmtree(MEDIA, ignore_errors=True)


if __name__ == "__main__":
    main()
