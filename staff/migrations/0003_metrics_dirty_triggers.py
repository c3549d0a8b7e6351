"""PostgreSQL triggers that mark a UTC day dirty whenever a row its analytics come from changes.

Why triggers and not `updated_at` or a mark written by the services: the figures must stay
exact whatever changes the rows, and many writers do not go through one service (a
`QuerySet.update()` leaves `updated_at` alone, a delete or a cascade leaves nothing behind,
the ledger's statements are raw SQL, staff use the shell). A statement-level trigger with
transition tables sees every INSERT, UPDATE and DELETE of every writer, in the writer's own
transaction, at one small statement per write statement; the UPDATE triggers mark a day only
when a column the figures read changed (progress and favourites do not). TRUNCATE throws the
rollups away. SQLite has no such triggers: there the report is always computed from the rows.

The marks are `INSERT ... ON CONFLICT DO NOTHING` on the day's primary key: writers of the same
day never wait on each other once the day is marked. The refresh deletes a day's mark *before*
it reads the day's rows (staff.services), so a change committed after that read leaves its mark.

Existing days are marked here, so the first refresh builds them.
"""

from django.db import migrations

DIRTY = "staff_metricsdirtyday"
UTC_DAY = "(created_at AT TIME ZONE 'UTC')::date"

# Each table: the columns the figures read (compared old against new on UPDATE; `EXCEPT`
# treats NULLs as equal), and how a changed row's day is found.
TABLES = {
    "headshots_headshotgeneration": (
        "id, created_at, status, style_id, user_id, team_id, processing_ms",
        f"SELECT {UTC_DAY} FROM changed",
    ),
    "headshots_generatedimage": (
        "id, generation_id, attempts",
        "SELECT (g.created_at AT TIME ZONE 'UTC')::date FROM changed"
        " JOIN headshots_headshotgeneration g ON g.id = changed.generation_id",
    ),
    "credits_transaction": (
        "id, kind, category, created_at",
        f"SELECT {UTC_DAY} FROM changed",
    ),
    # Only positive legs count in the report.
    "credits_entry": (
        "id, transaction_id, amount",
        "SELECT (t.created_at AT TIME ZONE 'UTC')::date FROM changed"
        " JOIN credits_transaction t ON t.id = changed.transaction_id"
        " WHERE changed.amount > 0",
    ),
}


def _function(table: str, columns: str, days: str) -> str:
    changed = {
        "INSERT": f"SELECT {columns} FROM new_rows",
        "DELETE": f"SELECT {columns} FROM old_rows",
        "UPDATE": (
            f"(SELECT {columns} FROM old_rows EXCEPT ALL SELECT {columns} FROM new_rows)"
            f" UNION ALL (SELECT {columns} FROM new_rows EXCEPT ALL SELECT {columns} FROM old_rows)"
        ),
    }
    branches = "\n".join(
        f"""  {"IF" if i == 0 else "ELSIF"} TG_OP = '{op}' THEN
    INSERT INTO {DIRTY} (day)
    SELECT DISTINCT day FROM (
      WITH changed AS ({sql}) {days}
    ) marked(day)
    ORDER BY day
    ON CONFLICT (day) DO NOTHING;"""
        for i, (op, sql) in enumerate(changed.items())
    )
    return f"""
CREATE OR REPLACE FUNCTION staff_metrics_mark_{table}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
{branches}
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER staff_metrics_insert AFTER INSERT ON {table}
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION staff_metrics_mark_{table}();
CREATE TRIGGER staff_metrics_update AFTER UPDATE ON {table}
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION staff_metrics_mark_{table}();
CREATE TRIGGER staff_metrics_delete AFTER DELETE ON {table}
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION staff_metrics_mark_{table}();
CREATE TRIGGER staff_metrics_truncate AFTER TRUNCATE ON {table}
  FOR EACH STATEMENT EXECUTE FUNCTION staff_metrics_forget_all();
"""


FORGET_ALL = """
CREATE OR REPLACE FUNCTION staff_metrics_forget_all() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM staff_metricsday;
  DELETE FROM staff_metricsdayuser;
  DELETE FROM staff_metricsdaytiming;
  RETURN NULL;
END
$$;
"""

MARK_EXISTING = f"""
INSERT INTO {DIRTY} (day)
SELECT {UTC_DAY} FROM headshots_headshotgeneration
UNION SELECT {UTC_DAY} FROM credits_transaction
ON CONFLICT (day) DO NOTHING;
"""


def _drop(table: str) -> str:
    return "".join(
        f"DROP TRIGGER IF EXISTS staff_metrics_{event} ON {table};"
        for event in ("insert", "update", "delete", "truncate")
    ) + f"DROP FUNCTION IF EXISTS staff_metrics_mark_{table}();"


def install(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FORGET_ALL)
    for table, (columns, days) in TABLES.items():
        schema_editor.execute(_function(table, columns, days))
    schema_editor.execute(MARK_EXISTING)


def uninstall(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(_drop(table))
    schema_editor.execute("DROP FUNCTION IF EXISTS staff_metrics_forget_all();")


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0002_metrics_rollups"),
        ("headshots", "0004_history_index_matches_order"),
        ("credits", "0001_initial"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
