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
