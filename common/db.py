"""Keep PostgreSQL's prepared statements working across a schema change.

With DATABASE_PREPARED_STATEMENTS (and the ledger's own statements) a connection keeps
its statements prepared. A migration that changes the type of a column they return (a
longer `max_length`, a new field type), applied while web and worker processes run,
makes each of them fail with "cached plan must not change result type" (SQLSTATE 0A000)
on every run, until the connection is replaced: up to CONN_MAX_AGE of errors on every
such read. Inside a transaction the failure aborts it, and its ROLLBACK already makes
psycopg forget its statements; outside one (autocommit: most reads), nothing would. So
there this wrapper deallocates the connection's statements and runs the query once more.
"""

from __future__ import annotations

from django.db import NotSupportedError


def _stale_plan(error: NotSupportedError) -> bool:
    # Matched on where PostgreSQL raised it, not on the (translatable) message.
    diag = getattr(error.__cause__, "diag", None)
    return (
        getattr(error.__cause__, "sqlstate", None) == "0A000"
        and getattr(diag, "source_function", None) == "RevalidateCachedQuery"
    )


def replan_stale_statements(execute, sql, params, many, context):
    """A Django execute wrapper (see `install`)."""
    try:
        return execute(sql, params, many, context)
    except NotSupportedError as error:
        connection = context["connection"]
        if connection.in_atomic_block or not _stale_plan(error):
            raise
        # psycopg clears its own record of prepared statements when it sees this command.
        with connection.connection.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")
        return execute(sql, params, many, context)


def install(*, connection, **kwargs) -> None:
    """connection_created: wrap every query of a PostgreSQL connection (once per wrapper:
    Django keeps the same DatabaseWrapper, and its wrappers, across reconnects)."""
    if connection.vendor == "postgresql" and replan_stale_statements not in (
        connection.execute_wrappers
    ):
        connection.execute_wrappers.append(replan_stale_statements)
