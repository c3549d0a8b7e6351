import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_env_example_lists_every_variable_the_settings_read():
    settings_source = (ROOT / "config" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z0-9_]+)"', settings_source))
    listed = set(re.findall(r"^([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read, "no env reads found: the pattern is out of date"
    assert read - listed == set()


def test_api_404_is_json_not_an_html_page(client, db):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_prints_logins(capsys):
    from django.core.management import call_command

    from credits.selectors import ledger_audit

    call_command("seed_demo")
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "admin@example.com" in out and "demo-password-2026" in out
    assert ledger_audit().clean


def test_repeated_orm_reads_run_as_prepared_statements_on_postgresql(db):
    """DATABASE_PREPARED_STATEMENTS (on by default): PostgreSQL plans a repeated read once."""
    from django.db import connection

    from accounts.models import User
    from tests.conftest import needs_postgres

    needs_postgres()
    shape = 'FROM "accounts_user" WHERE "accounts_user"."email" ='
    for n in range(6):
        User.objects.filter(email=f"nobody-{n}@example.com").first()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            [f"%{shape}%"],
        )
        (prepared,) = cursor.fetchone()
    assert prepared == 1
