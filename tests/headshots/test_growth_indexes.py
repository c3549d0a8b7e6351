"""Every query a member's poll, history page and credit history run can use an index, so
none of them slows down as other members' rows pile up (bench/growth.py times them at
1,000 and 100,000 generations).

The statements are the ones the endpoints really send (captured from the requests,
authentication included); each is EXPLAINed with sequential scans disabled, as in
tests/common/test_indexes.py: with a few rows PostgreSQL would rightly prefer a scan,
which would prove nothing. A plan that still scans has no index to use.
"""

import re

import pytest
from django.db import connection
from rest_framework.test import APIClient

from credits import services as credits_services
from tests.conftest import needs_postgres
from tests.factories import TeamFactory, UserFactory, finished_generation

pytestmark = pytest.mark.django_db

SIGNUP = "/_allauth/app/v1/auth/signup"


def _member():
    response = APIClient().post(
        SIGNUP, {"email": "poller@example.com", "password": "a-long-password-77"}, format="json"
    )
    token = response.json()["meta"]["session_token"]
    from accounts.models import User
    from teams.selectors import team_personal_for_user

    user = User.objects.get(email="poller@example.com")
    team = team_personal_for_user(user=user)
    generation = finished_generation(user, team=team, n_images=2)
    credits_services.credits_hold(
        team_id=team.id,
        user_id=user.id,
        amount=3,
        key=f"headshot:{generation.pk}:run1",
        category=credits_services.Category.HEADSHOT,
    )
    finished_generation(UserFactory(), team=TeamFactory())  # someone else's rows too
    return token, generation


def _statements(token: str, path: str) -> list[tuple[str, tuple]]:
    """The statements a warm request sends, as sent: SQL with placeholders, and values."""
    client = APIClient()
    client.get(path, HTTP_X_SESSION_TOKEN=token)  # the session is cached from now on
    sent = []

    def record(execute, sql, params, many, context):
        sent.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        response = client.get(path, HTTP_X_SESSION_TOKEN=token)
    assert response.status_code == 200, response.content
    return sent


def _scans(sql: str, params: tuple) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return plan if "Seq Scan" in plan else None


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/headshots/{id}",
        "/api/v1/headshots?page_size=20",
        "/api/v1/credits/history",
        "/api/v1/headshots/config",
    ],
)
def test_a_members_reads_use_indexes_only(path, media):
    needs_postgres()
    token, generation = _member()
    statements = _statements(token, path.format(id=generation.pk))
    assert statements
    scans = [(sql, plan) for sql, params in statements if (plan := _scans(sql, params))]
    # config's catalogue reads the whole (small, staff-edited) style table on purpose
    scans = [(sql, plan) for sql, plan in scans if "md5(string_agg" not in sql]
    assert not scans, scans


_PAGE = "LIMIT %s OFFSET %s"  # how a compiled page ends


def _literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool | int):
        return str(value).upper() if isinstance(value, bool) else str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _generic_plan(sql: str, params) -> str:
    """The plan PostgreSQL keeps for a prepared statement once it stops planning each
    call (the compiled reads bind even their LIMIT, so that plan must still be good)."""
    numbered = iter(range(1, len(params) + 1))
    statement = re.sub("%s", lambda _: f"${next(numbered)}", sql)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("DEALLOCATE ALL")
        cursor.execute(f"PREPARE probe AS {statement}")
        cursor.execute(f"EXPLAIN EXECUTE probe({', '.join(_literal(p) for p in params)})")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/headshots/{id}",
        "/api/v1/headshots?page_size=20",
        "/api/v1/headshots?status=completed&style=corporate&page=1",
        "/api/v1/headshots?favorite=true",
    ],
)
def test_the_prepared_plans_of_the_polls_and_history_pages_use_indexes(path, media):
    needs_postgres()
    token, generation = _member()
    generation.images.update(is_favorite=True)  # every path finds a row to page
    sent = _statements(token, path.format(id=generation.pk))
    reads = [(sql, params) for sql, params in sent if "headshots_" in sql]
    assert reads
    if "?" in path:  # the page itself was read, not only its count
        assert any(sql.endswith(_PAGE) for sql, _ in reads), reads
    for sql, params in reads:
        plan = _generic_plan(sql, params)
        assert "Seq Scan" not in plan, (sql, plan)
        if sql.endswith(_PAGE):  # a page walks the member's index in order: no sort of all rows
            assert "headshots_gen_user_recent" in plan and "Sort" not in plan, (sql, plan)
