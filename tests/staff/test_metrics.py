"""Analytics: right numbers on known rows, a fixed number of queries on many."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from credits import services as credits_services
from headshots.models import GeneratedImage, HeadshotGeneration, HeadshotStyle, Status
from staff import charts
from tests.conftest import client_for
from tests.factories import MembershipFactory, TeamFactory
from tests.staff.conftest import spent_generation

pytestmark = pytest.mark.django_db

DAY = date(2025, 3, 10)


def _at(hour: int, minute: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=UTC)


def _metrics(staff_user, start=DAY, end=DAY):
    response = client_for(staff_user).get(f"/api/v1/admin/metrics?start={start}&end={end}")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def known_rows(member, staff_user):
    """Five generations on 2025-03-10 by two users in two teams, one outside the range."""
    other = MembershipFactory(team=TeamFactory()).user
    other.team = other.memberships.get().team
    credits_services.credits_grant(
        team_id=other.team.id, user_id=other.id, amount=50, category="purchase", key="other"
    )
    spent_generation(member, costs=(3, 2), processing_ms=1000, created_at=_at(9, 15), attempts=2)
    spent_generation(member, costs=(3,), processing_ms=2000, created_at=_at(9, 40))
    spent_generation(
        member,
        costs=(),
        status=Status.FAILED,
        style="linkedin",
        processing_ms=500,
        created_at=_at(14),
    )
    refunded = spent_generation(
        other, costs=(3,), style="linkedin", processing_ms=4000, created_at=_at(14, 30)
    )
    client_for(staff_user).post(
        f"/api/v1/admin/headshots/{refunded.pk}/refund", {"reason": "bad"}, format="json"
    )
    spent_generation(
        other, costs=(), status=Status.PROCESSING, processing_ms=None, created_at=_at(23, 59)
    )
    spent_generation(member, costs=(3,), created_at=_at(9) - timedelta(days=1))  # the day before
    return member, other


def test_metrics_on_known_rows(staff_user, known_rows):
    data = _metrics(staff_user)

    assert data["start"] == data["end"] == "2025-03-10"
    assert data["generations"] == {
        "total": 5,
        "completed": 2,
        "failed": 1,
        "refunded": 1,
        "running": 1,
    }
    assert data["rates"]["success"] == 0.5
    assert data["rates"]["failure"] == 0.25
    assert data["rates"]["refunded"] == 0.25
    # 4 images delivered; the first generation's two needed a second render each
    assert data["images"] == {"delivered": 4, "renders": 6, "identity_rejections": 2}
    assert data["rates"]["identity_rejection"] == round(2 / 6, 4)
    assert data["processing_ms"]["average"] == 1875.0  # (1000 + 2000 + 500 + 4000) / 4
    assert data["processing_ms"]["p95"] == 3700.0  # linear: 2000 + 0.85 * (4000 - 2000)
    by_style = {s["slug"]: s for s in data["by_style"]}
    assert by_style["corporate"]["total"] == 3 and by_style["corporate"]["completed"] == 2
    assert by_style["corporate"]["avg_ms"] == 1500.0
    assert by_style["linkedin"] == {
        "slug": "linkedin",
        "name": by_style["linkedin"]["name"],
        "total": 2,
        "completed": 0,
        "failed": 1,
        "refunded": 1,
        "avg_ms": 2250.0,
    }
    hours = data["by_hour"]
    assert len(hours) == 24
    assert (hours[9], hours[14], hours[23], sum(hours)) == (2, 2, 1, 5)
    assert data["by_day"] == [{"date": "2025-03-10", "generations": 5}]
    assert data["active_teams"] == 2
    assert data["active_users"] == 2
    assert data["repeat_users"] == 2  # member: 3 that day; other: 2


def test_credits_sold_spent_and_refunded(member, staff_user):
    credits_services.credits_grant(
        team_id=member.team.id, user_id=member.id, amount=10, category="bonus", key="bonus"
    )
    spent_generation(member, costs=(3, 2))
    refunded = spent_generation(member, costs=(3,))
    client_for(staff_user).post(
        f"/api/v1/admin/headshots/{refunded.pk}/refund", {"reason": "bad"}, format="json"
    )
    today = timezone.localdate()
    data = _metrics(staff_user, today, today)
    assert data["credits"] == {
        "sold": 100,  # the member's purchase; the bonus is not sold
        "spent": 5,
        "captured": 8,
        "refunded": 3,
        "clawed_back": 0,
    }
    yesterday = today - timedelta(days=1)
    assert _metrics(staff_user, yesterday, yesterday)["credits"]["sold"] == 0


def test_an_empty_range_answers_zeros(staff_user):
    data = _metrics(staff_user)
    assert data["generations"]["total"] == 0
    assert data["rates"] == {
        "success": None,
        "failure": None,
        "refunded": None,
        "identity_rejection": None,
    }
    assert data["processing_ms"] == {"average": None, "p95": None}
    assert data["by_hour"] == [0] * 24


@pytest.mark.parametrize(
    "query,code",
    [
        ("start=2025-03-10&end=2025-03-01", "bad_range"),
        ("start=2024-01-01&end=2025-06-01", "range_too_long"),
        ("start=yesterday", "invalid"),
        ("start=2025-02-30", "invalid"),
        ("end=9999-12-31", "future_range"),
        ("start=9999-12-01", "future_range"),
        ("end=0001-01-05", "range_too_early"),
        ("start=0001-01-01&end=0001-01-05", "range_too_early"),
    ],
)
def test_bad_ranges_are_400(staff_user, query, code):
    response = client_for(staff_user).get(f"/api/v1/admin/metrics?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_the_default_range_is_the_last_30_days(staff_user):
    data = client_for(staff_user).get("/api/v1/admin/metrics").json()
    today = timezone.localdate()
    assert data["end"] == today.isoformat()
    assert data["start"] == (today - timedelta(days=29)).isoformat()
    assert len(data["by_day"]) == 30


def _bulk_rows(n: int, users, styles) -> None:
    """n generations on DAY (with one image each when completed) without the engine."""
    rng = random.Random(n)
    statuses = [Status.COMPLETED] * 8 + [Status.FAILED, Status.REFUNDED]
    generations = HeadshotGeneration.objects.bulk_create(
        [
            HeadshotGeneration(
                user=user,
                team=user.team,
                style=rng.choice(styles),
                aspect_ratio="1:1",
                status=rng.choice(statuses),
                processing_ms=rng.randint(300, 9000),
            )
            for user in (rng.choice(users) for _ in range(n))
        ]
    )
    for g in generations:  # created_at is auto_now_add: set it after the insert
        g.created_at = _at(rng.randint(0, 23), rng.randint(0, 59))
    HeadshotGeneration.objects.bulk_update(generations, ["created_at"])
    GeneratedImage.objects.bulk_create(
        [
            GeneratedImage(
                generation=g,
                index=0,
                width=1,
                height=1,
                seed=0,
                engine="studio",
                attempts=rng.randint(1, 3),
            )
            for g in generations
            if g.status != Status.FAILED
        ]
    )


def _count_queries(staff_user) -> int:
    client = client_for(staff_user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/v1/admin/metrics?start={DAY}&end={DAY}")
    assert response.status_code == 200
    return len(queries)


def test_the_number_of_queries_does_not_grow_with_the_rows(member, staff_user):
    users = [member]
    for _ in range(4):
        user = MembershipFactory(team=TeamFactory()).user
        user.team = user.memberships.get().team
        users.append(user)
    styles = list(HeadshotStyle.objects.all())

    _bulk_rows(10, users, styles)
    small = _count_queries(staff_user)
    assert _metrics(staff_user)["generations"]["total"] == 10

    _bulk_rows(190, users, styles)
    large = _count_queries(staff_user)
    assert _metrics(staff_user)["generations"]["total"] == 200

    assert small == large
    # DAY is marked dirty (none built): its figures come from the rows in 6 queries (hours,
    # styles, people, timings, images, credits), then the style names. PostgreSQL first reads
    # the marks and the rollups. tests/staff/test_metrics_rollups.py pins them with rollups.
    assert large == (9 if connection.vendor == "postgresql" else 7)


# --- the admin page ---------------------------------------------------------------------------


def test_the_analytics_page_draws_svg_charts_and_is_linked_from_the_index(staff_user, known_rows):
    browser = Client()
    browser.force_login(staff_user)
    index = browser.get("/admin/").content.decode()
    assert "/admin/staff/analytics/" in index

    page = browser.get(f"/admin/staff/analytics/?start={DAY}&end={DAY}")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 5
    assert 'data-testid="kpi-total">5<' in html
    assert "cdn" not in html.lower()

    bad = browser.get("/admin/staff/analytics/?start=2025-03-10&end=2025-03-01")
    assert bad.status_code == 200
    assert "must not be after" in bad.content.decode()


def test_charts_escape_their_labels():
    svg = charts.hbar_chart(title="<b>t</b>", labels=["<script>x</script>"], values=[3])
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "&lt;b&gt;" in svg
    empty = charts.vbar_chart(title="none", labels=[], values=[])
    assert empty.startswith("<svg")
