"""Analytics: GET /api/v1/admin/metrics over 100,000 generations vs a `SELECT count(*)` floor.

Inserts 100,000 generation rows (bulk_create) spread over 90 days, with an image for each
delivered one and a capture transaction in the ledger for each, in a keepdb test database
on PostgreSQL, then compacts the tables (VACUUM FULL ANALYZE: no dead rows from the seed
or from earlier runs); times the staff metrics endpoint over the whole 90 days (median of
a few calls, through the real URL, serializer and session, DEBUG off) and the floor: one
`SELECT count(*)` over the same rows and range, the two called in turn. Before timing, the
closed days' analytics rollups are built as the beat task would (`metrics_rollups_refresh`,
its time printed on stderr): the endpoint reads them and the row-derived user and p95 data.
The bench's rows are removed afterwards.
Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/portrait_staff .venv/bin/python bench/metrics.py
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portrait_staff")

import django  # noqa: E402

django.setup()

from _common import print_header, print_row  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

ROWS = int(os.environ.get("BENCH_ROWS", "100000"))
CALLS = int(os.environ.get("BENCH_CALLS", "7"))
DAYS = 90
USERS, TEAMS = 3_000, 600
PREFIX = "bench-metrics-"
END = datetime(2025, 6, 30, tzinfo=UTC)
START = END - timedelta(days=DAYS)


def _cleanup() -> None:
    """Remove every row an earlier (maybe interrupted) run left behind."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM teams_team WHERE slug LIKE %s", [PREFIX + "%"])
        team_ids = [row[0] for row in cursor.fetchall()]
        if team_ids:
            cursor.execute(
                "DELETE FROM credits_entry WHERE transaction_id IN "
                "(SELECT id FROM credits_transaction WHERE idempotency_key LIKE %s)",
                [PREFIX + "%"],
            )
            cursor.execute(
                "DELETE FROM credits_transaction WHERE idempotency_key LIKE %s", [PREFIX + "%"]
            )
            cursor.execute(
                "DELETE FROM headshots_generatedimage WHERE generation_id IN "
                "(SELECT id FROM headshots_headshotgeneration WHERE team_id = ANY(%s))",
                [team_ids],
            )
            cursor.execute(
                "DELETE FROM headshots_headshotgeneration WHERE team_id = ANY(%s)", [team_ids]
            )
            cursor.execute("DELETE FROM teams_team WHERE id = ANY(%s)", [team_ids])
        cursor.execute("DELETE FROM accounts_user WHERE email LIKE %s", [PREFIX + "%"])


def _seed() -> int:
    from accounts.models import User
    from credits.models import Category, Entry, Kind, SystemAccount, Transaction
    from credits.services import account_system
    from headshots.models import GeneratedImage, HeadshotGeneration, HeadshotStyle, Status
    from headshots.styles_seed import seed_styles
    from teams.models import Team

    rng = random.Random(42)
    seed_styles(HeadshotStyle)  # a flushed test database may have lost them
    styles = list(HeadshotStyle.objects.all())
    users = User.objects.bulk_create(
        # "!" is Django's unusable-password marker: nobody can sign in as these users.
        [User(email=f"{PREFIX}{i}@example.com", password="!") for i in range(USERS)]  # noqa: S106
    )
    teams = Team.objects.bulk_create(
        [Team(name=f"Bench {i}", slug=f"{PREFIX}{i}") for i in range(TEAMS)]
    )
    statuses = [Status.COMPLETED] * 16 + [Status.FAILED] * 2 + [Status.REFUNDED, Status.QUEUED]
    # A few heavy users, a long tail: repeat users are a real share of the total.
    weights = [1 / (i + 1) for i in range(USERS)]
    owners = rng.choices(range(USERS), weights=weights, k=ROWS)
    generations = HeadshotGeneration.objects.bulk_create(
        [
            HeadshotGeneration(
                user=users[u],
                team=teams[u % TEAMS],
                style=rng.choice(styles),
                aspect_ratio="1:1",
                status=(status := rng.choice(statuses)),
                progress=100,
                credits_used=3 if status in (Status.COMPLETED, Status.REFUNDED) else 0,
                processing_ms=None if status == Status.QUEUED else int(rng.lognormvariate(7, 0.5)),
            )
            for u in owners
        ],
        batch_size=5_000,
    )
    delivered = [g for g in generations if g.credits_used]
    GeneratedImage.objects.bulk_create(
        [
            GeneratedImage(
                generation=g,
                index=0,
                width=1024,
                height=1024,
                seed=0,
                engine="studio",
                credits=3,
                attempts=rng.choices([1, 2, 3], weights=[85, 12, 3])[0],
            )
            for g in delivered
        ],
        batch_size=5_000,
    )
    # The report reads only the spend leg. The adjustments account stands in for the
    # member's: this bench funds no member, and a member leg would overdraw their balance.
    source, spend = account_system(SystemAccount.ADJUSTMENTS), account_system(SystemAccount.SPEND)
    txs = Transaction.objects.bulk_create(
        [
            Transaction(
                idempotency_key=f"{PREFIX}{g.pk}",
                kind=Kind.CAPTURE,
                category=Category.HEADSHOT,
                team_id=g.team_id,
                actor_id=g.user_id,
                reference=f"headshot:{g.pk}",
            )
            for g in delivered
        ],
        batch_size=5_000,
    )
    Entry.objects.bulk_create(
        [Entry(transaction=tx, account=source, amount=-3) for tx in txs]
        + [Entry(transaction=tx, account=spend, amount=3) for tx in txs],
        batch_size=10_000,
    )
    # created_at is auto_now_add: spread the rows over the 90 days afterwards, in SQL.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE headshots_headshotgeneration g SET created_at = %s - "
            "(abs(hashtext(g.id::text)) %% (%s * 86400)) * interval '1 second' "
            "WHERE g.team_id = ANY(%s)",
            [END, DAYS, [t.pk for t in teams]],
        )
        cursor.execute(
            "UPDATE credits_transaction t SET created_at = g.created_at "
            "FROM headshots_headshotgeneration g "
            "WHERE t.idempotency_key LIKE %s AND t.reference = 'headshot:' || g.id",
            [PREFIX + "%"],
        )
    return len(generations)


TABLES = (
    "headshots_headshotgeneration",
    "headshots_generatedimage",
    "credits_transaction",
    "credits_entry",
    "staff_metricsday",
    "staff_metricsdayuser",
    "staff_metricsdaytiming",
    "staff_metricsdirtyday",
)


def _compact() -> None:
    """Rewrite the tables and their statistics, as a healthy production table would be.

    The seed's UPDATE leaves a dead copy of every row, and each run's cleanup deletes its
    rows: without this the keep-db tables grew run after run (1.3 million dead rows, 210 MB
    of generations after a dozen runs) and both sides mostly measured scanning garbage.
    """
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"VACUUM (FULL, ANALYZE) {table}")


def _medians_ms(*calls) -> list[float]:
    """The median time of each call over CALLS rounds, the calls alternating within a round
    so that load from other jobs on a shared machine falls on all of them alike."""
    for call in calls:
        call()  # warm caches and connections
    times: list[list[float]] = [[] for _ in calls]
    for _ in range(CALLS):
        for call, spent in zip(calls, times, strict=True):
            started = time.perf_counter()
            call()
            spent.append((time.perf_counter() - started) * 1000)
    return [statistics.median(spent) for spent in times]


def main() -> None:
    setup_test_environment(debug=False)
    if connection.vendor != "postgresql":
        sys.exit("bench/metrics.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, keepdb=True)  # test_<name>, reused
    try:
        from django.test import Client

        from accounts.models import User

        _cleanup()
        with transaction.atomic():
            inserted = _seed()
        # What the beat task (staff.metrics_rollups_refresh) does once the days have closed.
        from staff.services import metrics_rollups_refresh

        started = time.perf_counter()
        built = metrics_rollups_refresh()
        print(
            f"{built} day rollups built in {time.perf_counter() - started:.1f} s", file=sys.stderr
        )
        _compact()
        staff = User.objects.create_user(email=f"{PREFIX}staff@example.com", is_staff=True)
        client = Client()
        client.force_login(staff)
        url = f"/api/v1/admin/metrics?start={START.date()}&end={(END - timedelta(days=1)).date()}"
        answer = client.get(url).json()
        total = answer["generations"]["total"]

        def ours() -> None:
            response = client.get(url)
            assert response.status_code == 200

        def floor() -> None:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM headshots_headshotgeneration "
                    "WHERE created_at >= %s AND created_at < %s",
                    [START, END],
                )
                cursor.fetchone()

        ours_ms, floor_ms = _medians_ms(ours, floor)
        print(
            f"{inserted:,} generations inserted; the endpoint counted {total:,} in range, "
            f"p95 {answer['processing_ms']['p95']} ms, {answer['repeat_users']:,} repeat users",
            file=sys.stderr,  # stdout holds only the table row (bench/run_all.py)
        )
        print_header()
        print_row(
            f"admin metrics, {inserted // 1000}k generations (PG)",
            ours_ms,
            floor_ms,
            "ms",
            "<= 10x floor (5 queries)",
        )
    finally:
        _cleanup()
        _compact()
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=True)


if __name__ == "__main__":
    main()
