"""common.db: prepared statements keep working when another process changes a column's type
(a migration applied while web and worker processes run)."""

import pytest
from django.db import NotSupportedError, connection, connections, transaction

from tests.conftest import needs_postgres


def _read() -> list:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, name FROM common_replan_probe WHERE id = %s", [1])
        return cursor.fetchall()


@pytest.fixture
def migrator(transactional_db):
    """A second connection, the migrating process, once this one has prepared `_read`."""
    needs_postgres()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE common_replan_probe (id int PRIMARY KEY, name varchar(10))")
        cursor.execute("INSERT INTO common_replan_probe VALUES (1, 'a')")
    for _ in range(6):  # prepared from its fifth run (DATABASE_PREPARED_STATEMENTS)
        _read()
    other = connections.create_connection("default")
    yield other
    other.close()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE common_replan_probe")


def _widen_the_column(other) -> None:
    with other.cursor() as cursor:
        cursor.execute("ALTER TABLE common_replan_probe ALTER COLUMN name TYPE varchar(20)")


def test_a_prepared_read_outside_a_transaction_survives_a_column_type_change(migrator):
    _widen_the_column(migrator)

    assert _read() == [(1, "a")]
    assert _read() == [(1, "a")]


def test_a_prepared_read_in_a_transaction_fails_once_and_its_rollback_heals(migrator):
    # The failure aborts the transaction (nothing can run in it any more): it is raised,
    # and the rollback makes psycopg forget the stale statement.
    _widen_the_column(migrator)

    with pytest.raises(NotSupportedError), transaction.atomic():
        _read()
    assert _read() == [(1, "a")]
