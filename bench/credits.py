"""Credits: holds per second through the ledger service vs a raw conditional UPDATE floor.

8 workers on PostgreSQL, each holding 1 credit at a time for its own member (so we measure
the ledger's own cost, not one row's lock queue). The floor is the cheapest correct spend
there is: `UPDATE ... SET balance = balance - 1 WHERE id = %s AND balance >= 1`, autocommit.

Both are measured the same way: the same workers (processes by default, so neither side
queues on one GIL; BENCH_WORKERS=threads for 8 threads in one process), one persistent
connection per worker, DEBUG off as in production, and in alternating rounds (floor,
ours, floor, ours...) so that load from other jobs on a shared machine falls on both.
Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/portrait .venv/bin/python bench/credits.py
"""

from __future__ import annotations

import multiprocessing
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

WORKERS = 8
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))  # per side, split over the rounds
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
MODE = os.environ.get("BENCH_WORKERS", "processes")


def _run_workers(work, seconds: float) -> int:
    """Run `work(index, deadline)` in WORKERS workers until the deadline; return operations.

    Every worker opens its own connection and closes it when done; a forked process must
    not reuse the parent's socket, so the parent closes its connections before forking.
    """

    def runner(i: int, deadline: float) -> int:
        try:
            return work(i, deadline)
        finally:
            connections.close_all()

    if MODE == "threads":
        counts = [0] * WORKERS
        barrier = threading.Barrier(WORKERS + 1)

        def thread(i: int) -> None:
            barrier.wait()
            counts[i] = runner(i, time.monotonic() + seconds)

        threads = [threading.Thread(target=thread, args=(i,)) for i in range(WORKERS)]
        for t in threads:
            t.start()
        barrier.wait()
        for t in threads:
            t.join()
        return sum(counts)

    connections.close_all()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(WORKERS + 1)
    results = context.Queue()

    def process(i: int) -> None:
        barrier.wait()
        results.put(runner(i, time.monotonic() + seconds))

    processes = [context.Process(target=process, args=(i,)) for i in range(WORKERS)]
    for p in processes:
        p.start()
    barrier.wait()
    total = sum(results.get() for _ in processes)
    for p in processes:
        p.join()
    return total


def floor_setup() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_balance")
        cursor.execute(
            "CREATE TABLE bench_balance (id int primary key, balance bigint not null check (balance >= 0))"
        )
        cursor.execute(
            "INSERT INTO bench_balance SELECT g, 100000000 FROM generate_series(0, %s) g", [WORKERS]
        )
        cursor.execute("DROP TABLE IF EXISTS bench_hold")
        cursor.execute(
            "CREATE TABLE bench_hold (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            " key varchar(200) NOT NULL UNIQUE, account_id int NOT NULL REFERENCES bench_balance"
            " DEFERRABLE INITIALLY DEFERRED, amount bigint NOT NULL, created_at timestamptz NOT NULL)"
        )


def floor_cleanup() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_hold")
        cursor.execute("DROP TABLE bench_balance")


def floor_work(i: int, deadline: float) -> int:
    n = 0
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "UPDATE bench_balance SET balance = balance - 1 WHERE id = %s AND balance >= 1",
                [i],
            )
            n += cursor.rowcount
    return n


def recorded_work(i: int, deadline: float) -> int:
    """The least a hold that keeps a record of itself can cost: the floor's UPDATE and one
    INSERT of a row with a unique key, in one statement. Not a target, a bound: it shows
    how far a ledger that writes one row a hold could get (see docs/performance.md)."""
    n = 0
    run = time.time_ns()
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "WITH debit AS (UPDATE bench_balance SET balance = balance - 1"
                " WHERE id = %s AND balance >= 1 RETURNING id)"
                " INSERT INTO bench_hold (key, account_id, amount, created_at)"
                " SELECT %s, debit.id, 1, now() FROM debit",
                [i, f"r{run}:{i}:{n}"],
            )
            n += cursor.rowcount
    return n


def ledger_setup():
    """A team with one member per worker, each with a million credits; returns a maker of
    each round's work (every round uses new hold keys) and the cleanup that deletes all of
    it again (the test database is kept between runs, and the test suite reuses it)."""
    from credits import services as s
    from tests.factories import MembershipFactory, TeamFactory

    run = time.time_ns()
    team = TeamFactory(slug=f"bench-{run}")
    users = [
        MembershipFactory(team=team, user__email=f"bench{run}-{i}@example.com").user
        for i in range(WORKERS)
    ]
    for user in users:
        s.credits_grant(
            team_id=team.id,
            user_id=user.id,
            amount=1_000_000,
            category="purchase",
            key=f"bench:{user.id}",
        )

    def work_for(round_no: int):
        def work(i: int, deadline: float) -> int:
            n = 0
            while time.monotonic() < deadline:
                s.credits_hold(
                    team_id=team.id,
                    user_id=users[i].id,
                    amount=1,
                    key=f"b{run}:{round_no}:{i}:{n}",
                    category="headshot",
                )
                n += 1
            return n

        return work

    def cleanup() -> None:
        ledger_cleanup(team_id=team.id)
        for user in users:
            user.delete()
        team.delete()

    return work_for, cleanup


def ledger_cleanup(*, team_id: int) -> None:
    """Delete a bench team's ledger rows: the ledger is append-only and PROTECTs them, so
    this is SQL (every value a parameter)."""
    statements = [
        "DELETE FROM credits_entry WHERE transaction_id IN"
        " (SELECT id FROM credits_transaction WHERE team_id = %(team)s)",
        "DELETE FROM credits_hold WHERE account_id IN"
        " (SELECT id FROM credits_account WHERE team_id = %(team)s)",
        "DELETE FROM credits_transaction WHERE team_id = %(team)s",
        "DELETE FROM credits_account WHERE team_id = %(team)s",
    ]
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql, {"team": team_id})


def main() -> None:
    setup_test_environment(debug=False)
    if connection.vendor != "postgresql":
        sys.exit("bench/credits.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    from credits import selectors

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, keepdb=True)  # test_<name>, reused between runs
    cleanups = []
    try:
        floor_setup()
        cleanups.append(floor_cleanup)
        ledger_work, ledger_cleanup_all = ledger_setup()
        cleanups.append(ledger_cleanup_all)
        floor_ops = ours_ops = recorded_ops = 0
        for round_no in range(ROUNDS):
            floor_ops += _run_workers(floor_work, SECONDS / ROUNDS)
            ours_ops += _run_workers(ledger_work(round_no), SECONDS / ROUNDS)
            recorded_ops += _run_workers(recorded_work, SECONDS / ROUNDS)
        clean = selectors.ledger_audit().clean
        print_header()
        print_row(
            f"credit holds/s, 8 {MODE} (PostgreSQL)",
            ours_ops / SECONDS,
            floor_ops / SECONDS,
            "ops/s",
            "ratio <= 2 (half the floor)",
            higher_is_better=True,
        )
        print_row(
            "  bound: UPDATE + one keyed INSERT/s",
            recorded_ops / SECONDS,
            floor_ops / SECONDS,
            "ops/s",
            "(what one row a hold allows)",
            higher_is_better=True,
        )
        if not clean:
            print("LEDGER AUDIT FAILED after the run")
            sys.exit(1)
    finally:
        # The kept test database is the test suite's too (pytest --reuse-db): leave nothing.
        for cleanup in reversed(cleanups):
            cleanup()
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=True)


if __name__ == "__main__":
    main()
