"""bench/credits.py runs in the kept test database, which the test suite reuses
(--reuse-db): it must leave no rows behind, or the next test run sees its holds."""

import importlib.util
import time
from pathlib import Path

import pytest

from accounts.models import User
from credits.models import Account, Entry, Hold, Transaction
from teams.models import Membership, Team
from tests.conftest import needs_postgres

BENCH = Path(__file__).resolve().parents[2] / "bench" / "credits.py"


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_credits", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rows() -> list[int]:
    models = (Transaction, Entry, Hold, Account, User, Team, Membership)
    return [model.objects.count() for model in models]


@pytest.mark.django_db
def test_the_credits_bench_deletes_what_it_wrote():
    needs_postgres()
    bench = _bench_module()
    before = _rows()

    work_for, cleanup = bench.ledger_setup()
    held = work_for(0)(0, time.monotonic() + 0.05)  # worker 0 holds for 50 ms
    assert held > 0 and Hold.objects.count() == before[2] + held

    cleanup()

    assert _rows() == before
