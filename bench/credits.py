"""Credits: holds per second through the ledger service vs a raw conditional UPDATE floor.

8 threads on PostgreSQL, each holding 1 credit at a time for its own member (so we measure
the ledger's own cost, not one row's lock queue). The floor is the cheapest correct spend
there is: `UPDATE ... SET balance = balance - 1 WHERE id = %s AND balance >= 1`, autocommit.
Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/portrait .venv/bin/python bench/credits.py
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portrait")

import django  # noqa: E402

django.setup()

from _common import print_header, print_row  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

THREADS = 8
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))


def _run_threads(work) -> int:
    """Run `work(thread_index, stop)` in THREADS threads for SECONDS; return operations done."""
    stop = threading.Event()
    counts = [0] * THREADS
    barrier = threading.Barrier(THREADS + 1)

    def runner(i: int) -> None:
        barrier.wait()
        try:
            counts[i] = work(i, stop)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    barrier.wait()
    time.sleep(SECONDS)
    stop.set()
    for t in threads:
        t.join()
    return sum(counts)


def floor_ops_per_second() -> float:
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_balance")
        cursor.execute(
            "CREATE TABLE bench_balance (id int primary key, balance bigint not null check (balance >= 0))"
        )
        cursor.execute(
            "INSERT INTO bench_balance SELECT g, 100000000 FROM generate_series(0, %s) g", [THREADS]
        )

    def work(i: int, stop: threading.Event) -> int:
        n = 0
        with connections["default"].cursor() as cursor:
            while not stop.is_set():
                cursor.execute(
                    "UPDATE bench_balance SET balance = balance - 1 WHERE id = %s AND balance >= 1",
                    [i],
                )
                n += cursor.rowcount
        return n

    return _run_threads(work) / SECONDS


def ledger_ops_per_second() -> tuple[float, bool]:
    from credits import selectors
    from credits import services as s
    from tests.factories import MembershipFactory, TeamFactory

    run = time.time_ns()
    team = TeamFactory(slug=f"bench-{run}")
    users = [
        MembershipFactory(team=team, user__email=f"bench{run}-{i}@example.com").user
        for i in range(THREADS)
    ]
    for user in users:
        s.credits_grant(
            team_id=team.id,
            user_id=user.id,
            amount=1_000_000,
            category="purchase",
            key=f"bench:{user.id}",
        )
    run = time.time_ns()

    def work(i: int, stop: threading.Event) -> int:
        n = 0
        while not stop.is_set():
            s.credits_hold(
                team_id=team.id,
                user_id=users[i].id,
                amount=1,
                key=f"b{run}:{i}:{n}",
                category="headshot",
            )
            n += 1
        return n

    rate = _run_threads(work) / SECONDS
    return rate, selectors.ledger_audit().clean


def main() -> None:
    setup_test_environment()
    if connection.vendor != "postgresql":
        sys.exit("bench/credits.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, keepdb=True)  # test_<name>, reused between runs
    try:
        floor = floor_ops_per_second()
        ours, clean = ledger_ops_per_second()
        print_header()
        print_row(
            "credit holds/s, 8 threads (PostgreSQL)",
            ours,
            floor,
            "ops/s",
            "ratio <= 2 (half the floor)",
            higher_is_better=True,
        )
        if not clean:
            print("LEDGER AUDIT FAILED after the run")
            sys.exit(1)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=True)


if __name__ == "__main__":
    main()
