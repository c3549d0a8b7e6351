"""Where a credit hold's time goes, on one connection. Not part of `make bench`.

bench/credits.py compares holds a second with a floor under 8 workers. This prints what one
operation costs on one connection, in process: wall time, this process's CPU and the
PostgreSQL backend's CPU, for
- the floor: `UPDATE ... SET balance = balance - 1 WHERE id = 1 AND balance >= 1`;
- the cheapest hold that keeps a record of itself: that UPDATE and one INSERT of a keyed
  row (unique key, foreign key to the balance), in one statement;
- a hold through `credits.services.credits_hold` (a reservation: the member's UPDATE of
  `balance` and `held` and the hold row, in one statement);
each with the commit's WAL flush and without it (`synchronous_commit = off`, CPU alone).
Then the hold statement's parts from EXPLAIN ANALYZE, medians: its execution and every
trigger it fires (the foreign-key checks, made immediate here so they show; a hold fires
no staff metrics mark since holds became reservations).

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/portrait \\
     .venv/bin/python bench/support/profile_hold.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadkit

loadkit.configure(tempfile.mkdtemp(prefix="bench-hold-"))

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

N = int(os.environ.get("BENCH_N", "1500"))  # operations a measurement
ROUNDS = 3  # alternating rounds; the median is printed
EXPLAINED = 60

TABLES = """
DROP TABLE IF EXISTS bench_hold;
DROP TABLE IF EXISTS bench_balance;
CREATE TABLE bench_balance (id int PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0));
INSERT INTO bench_balance VALUES (1, 1000000000);
CREATE TABLE bench_hold (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key varchar(200) NOT NULL UNIQUE,
    account_id int NOT NULL REFERENCES bench_balance DEFERRABLE INITIALLY DEFERRED,
    amount bigint NOT NULL,
    created_at timestamptz NOT NULL
);
"""
FLOOR = "UPDATE bench_balance SET balance = balance - 1 WHERE id = 1 AND balance >= 1"
RECORDED = """
WITH debit AS (
    UPDATE bench_balance SET balance = balance - 1 WHERE id = 1 AND balance >= 1 RETURNING id
)
INSERT INTO bench_hold (key, account_id, amount, created_at)
SELECT %s, debit.id, 1, %s FROM debit
"""


def _member():
    from credits import services
    from tests.factories import MembershipFactory

    membership = MembershipFactory()
    services.credits_grant(
        team_id=membership.team_id,
        user_id=membership.user_id,
        amount=1_000_000,
        category="purchase",
        key="profile-hold",
    )
    return membership


def _measure(operation, n: int) -> tuple[float, float, float]:
    """Wall, client CPU and backend CPU microseconds an operation."""
    backend = loadkit.backend_cpu_seconds()
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        operation(i)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    backend = loadkit.backend_cpu_seconds() - backend
    return wall / n * 1e6, cpu / n * 1e6, backend / n * 1e6


def _operations(membership) -> dict:
    from credits import services

    cursor = connection.cursor()  # kept open, as bench/credits.py's floor does
    run = time.time_ns()

    def floor(i: int) -> None:
        cursor.execute(FLOOR)

    def recorded(i: int) -> None:
        cursor.execute(RECORDED, [f"r{run}:{i}:{time.perf_counter_ns()}", timezone.now()])

    def hold(i: int) -> None:
        services.credits_hold(
            team_id=membership.team_id,
            user_id=membership.user_id,
            amount=1,
            key=f"h{run}:{i}:{time.perf_counter_ns()}",
            category="headshot",
        )

    return {
        "floor: conditional UPDATE": floor,
        "UPDATE + one keyed INSERT": recorded,
        "hold (credits.services)": hold,
    }


def _explained_hold(membership) -> dict[str, list[float]]:
    """The hold statement's execution and trigger times (ms), one EXPLAIN ANALYZE each."""
    from credits import services

    times: dict[str, list[float]] = defaultdict(list)
    for i in range(EXPLAINED):
        key = f"e{time.time_ns()}:{i}"
        params = {
            "amount": 1,
            "team_id": membership.team_id,
            "user_id": membership.user_id,
            "key": key,
            "category": "headshot",
            "reference": "",
            "memo": "Held for a running job",
            "now": timezone.now(),
        }
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + services._HOLD_SQL, params)
            (plan,) = cursor.fetchone()
        plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]
        times["statement: execution"].append(plan["Execution Time"])
        for trigger in plan.get("Triggers", []):
            name = trigger["Trigger Name"]
            what = "foreign-key check" if name.startswith("RI_ConstraintTrigger") else name
            times[f"  {what} on {trigger['Relation']}"].append(trigger["Time"])
    return times


def main() -> None:
    setup_test_environment(debug=False)
    if connection.vendor != "postgresql":
        sys.exit("bench/support/profile_hold.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    old_name = loadkit.use_database("holds")
    try:
        with connection.cursor() as cursor:
            cursor.execute(TABLES)
        membership = _member()
        operations = _operations(membership)
        print(f"one connection, microseconds an operation (median of {ROUNDS} rounds of {N})")
        print(f"{'':34} {'wall':>7} {'client':>7} {'backend':>8} {'wall/floor':>11}")
        for commit in ("on", "off"):
            with connection.cursor() as cursor:
                cursor.execute(f"SET synchronous_commit = {commit}")
            for operation in operations.values():
                _measure(operation, 100)  # warm: prepared statements, caches
            figures = defaultdict(list)
            for _ in range(ROUNDS):
                for label, operation in operations.items():
                    figures[label].append(_measure(operation, N))
            print(f"synchronous_commit = {commit}")
            floor_wall = None
            for label, rounds in figures.items():
                wall, client, backend = (
                    statistics.median(part) for part in zip(*rounds, strict=True)
                )
                floor_wall = floor_wall or wall
                print(
                    f"  {label:32} {wall:7.0f} {client:7.0f} {backend:8.0f}"
                    f" {wall / floor_wall:11.2f}"
                )
        print(f"\nthe hold statement, EXPLAIN ANALYZE, median ms of {EXPLAINED}")
        for label, values in _explained_hold(membership).items():
            print(f"  {label:50} {statistics.median(values):6.3f} x{len(values) // EXPLAINED}")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_hold; DROP TABLE IF EXISTS bench_balance")
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=True)


if __name__ == "__main__":
    main()
