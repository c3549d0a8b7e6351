"""What a member reads is served by an index, so it does not slow down as tables grow.

EXPLAIN with sequential scans disabled shows that a usable index exists for each query;
with a few rows PostgreSQL would rightly prefer a scan, which would prove nothing.
"""

import pytest
from django.db import connection

from credits import selectors as credits_selectors
from credits import services as credits_services
from headshots import selectors as headshots_selectors
from tests.conftest import needs_postgres
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_headshot_history_reads_one_users_rows_by_index():
    needs_postgres()
    plan = _plan(headshots_selectors.headshot_list(user=UserFactory())[:20])
    assert "Seq Scan" not in plan, plan
    assert "Index Scan" in plan, plan


def test_credit_history_uses_indexes_not_scans():
    needs_postgres()
    member = MembershipFactory().user
    credits_services.credits_grant(
        team_id=member.memberships.get().team_id,
        user_id=member.id,
        amount=1,
        category="bonus",
        key="plan",
    )
    plan = _plan(credits_selectors.history_for_user(user_id=member.id)[:20])
    assert "Seq Scan" not in plan, plan
    assert "Index" in plan, plan


def test_stuck_job_sweep_uses_the_status_index():
    needs_postgres()
    from headshots.models import HeadshotGeneration

    plan = _plan(
        HeadshotGeneration.objects.filter(status__in=["queued", "processing"]).values("pk")
    )
    assert "headshots_gen_status_upd" in plan, plan
