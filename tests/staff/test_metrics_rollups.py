"""Analytics rollups: whatever happens to the rows, the report equals the figures computed
straight from them (an independent oracle below), with rollups built at random moments."""

from __future__ import annotations

import math
import random
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from credits import services as credits_services
from credits.models import Category, Entry, Kind, Transaction
from headshots.models import GeneratedImage, HeadshotGeneration, HeadshotStyle, Status
from staff import selectors, services
from staff.models import MetricsDay, MetricsDirtyDay
from tests.conftest import client_for, needs_postgres
from tests.factories import MembershipFactory, TeamFactory
from tests.staff.conftest import spent_generation

pytestmark = pytest.mark.django_db

FIRST = date(2025, 3, 6)
LAST = date(2025, 3, 10)
DAYS = [FIRST + timedelta(days=i) for i in range((LAST - FIRST).days + 1)]


def oracle(start: date, end: date) -> dict:
    """The report computed from every row in Python, days in the current time zone."""

    def local(moment: datetime) -> datetime:
        return timezone.localtime(moment)

    def in_range(moment: datetime) -> bool:
        return start <= local(moment).date() <= end

    rows = [g for g in HeadshotGeneration.objects.all() if in_range(g.created_at)]
    by_status = {s: sum(1 for g in rows if g.status == s) for s in Status.values}
    timed = sorted(g.processing_ms for g in rows if g.processing_ms is not None)
    p95 = None
    if timed:
        position = 0.95 * (len(timed) - 1)
        low, high = timed[math.floor(position)], timed[math.ceil(position)]
        p95 = round(low + (high - low) * (position - math.floor(position)), 1)
    styles = []
    for style in HeadshotStyle.objects.all():
        mine = [g for g in rows if g.style_id == style.pk]
        if not mine:
            continue
        ms = [g.processing_ms for g in mine if g.processing_ms is not None]
        styles.append(
            {
                "slug": style.slug,
                "name": style.name,
                "total": len(mine),
                "completed": sum(1 for g in mine if g.status == Status.COMPLETED),
                "failed": sum(1 for g in mine if g.status == Status.FAILED),
                "refunded": sum(1 for g in mine if g.status == Status.REFUNDED),
                "avg_ms": round(sum(ms) / len(ms), 1) if ms else None,
            }
        )
    styles.sort(key=lambda s: (-s["total"], s["name"]))
    ids = {g.pk for g in rows}
    images = [i for i in GeneratedImage.objects.all() if i.generation_id in ids]
    per_user: dict[int, int] = {}
    for g in rows:
        per_user[g.user_id] = per_user.get(g.user_id, 0) + 1
    credits = dict.fromkeys(Kind.values, 0)
    for entry in Entry.objects.select_related("transaction"):
        tx = entry.transaction
        sold = tx.kind == Kind.GRANT and tx.category == Category.PURCHASE
        counted = sold or tx.kind in (Kind.CAPTURE, Kind.REFUND, Kind.CLAWBACK)
        if entry.amount > 0 and counted and in_range(tx.created_at):
            credits[tx.kind] += entry.amount
    renders = sum(i.attempts for i in images)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    return {
        "start": start,
        "end": end,
        "total": len(rows),
        "completed": by_status[Status.COMPLETED],
        "failed": by_status[Status.FAILED],
        "refunded": by_status[Status.REFUNDED],
        "running": by_status[Status.QUEUED] + by_status[Status.PROCESSING],
        "avg_ms": round(sum(timed) / len(timed), 1) if timed else None,
        "p95_ms": p95,
        "images": len(images),
        "renders": renders,
        "identity_rejections": renders - len(images),
        "by_style": styles,
        "by_hour": [sum(1 for g in rows if local(g.created_at).hour == h) for h in range(24)],
        "by_day": [(d, sum(1 for g in rows if local(g.created_at).date() == d)) for d in days],
        "credits_sold": credits[Kind.GRANT],
        "credits_captured": credits[Kind.CAPTURE],
        "credits_refunded": credits[Kind.REFUND],
        "credits_clawed_back": credits[Kind.CLAWBACK],
        "active_teams": len({g.team_id for g in rows}),
        "active_users": len(per_user),
        "repeat_users": sum(1 for n in per_user.values() if n >= 2),
    }


def assert_exact(start: date = FIRST, end: date = LAST) -> None:
    assert asdict(selectors.headshot_metrics(start=start, end=end)) == oracle(start, end)


def _moment(rng: random.Random) -> datetime:
    day = rng.choice(DAYS)
    return datetime(day.year, day.month, day.day, rng.randrange(24), rng.randrange(60), tzinfo=UTC)


@pytest.fixture
def people(member):
    others = []
    for _ in range(2):
        user = MembershipFactory(team=TeamFactory()).user
        user.team = user.memberships.get().team
        credits_services.credits_grant(
            team_id=user.team.id,
            user_id=user.id,
            amount=500,
            category="purchase",
            key=f"p{user.pk}",
        )
        others.append(user)
    credits_services.credits_grant(
        team_id=member.team.id, user_id=member.id, amount=400, category="purchase", key="more"
    )
    return [member, *others]


def _history_step(rng: random.Random, people, staff_user) -> str:
    """One change of the kinds that happen to rows after the fact; returns its name."""
    generations = list(HeadshotGeneration.objects.order_by("pk"))
    kinds = ["submit", "submit", "finish_late", "refund", "delete", "edit", "move", "backdate"]
    kind = rng.choice(kinds if generations else ["submit"])
    if kind == "submit":
        spent_generation(
            rng.choice(people),
            costs=tuple(rng.choice([2, 3]) for _ in range(rng.randint(0, 2))),
            status=rng.choice([Status.COMPLETED, Status.FAILED, Status.PROCESSING]),
            style=rng.choice(["corporate", "linkedin"]),
            processing_ms=rng.choice([None, rng.randint(100, 400), rng.randint(100, 9000)]),
            created_at=_moment(rng),
            attempts=rng.randint(1, 3),
        )
    elif kind == "finish_late":  # a job submitted days ago delivers one more image today
        generation = rng.choice(generations)
        GeneratedImage.objects.create(
            generation=generation,
            index=100 + GeneratedImage.objects.filter(generation=generation).count(),
            width=1,
            height=1,
            seed=0,
            engine="studio",
            attempts=rng.randint(1, 3),
        )
        HeadshotGeneration.objects.filter(pk=generation.pk).update(
            status=Status.COMPLETED, processing_ms=rng.randint(100, 9000)
        )
    elif kind == "refund":
        done = [g for g in generations if g.status == Status.COMPLETED and g.credits_used]
        if done:
            target = rng.choice(done)
            client_for(staff_user).post(
                f"/api/v1/admin/headshots/{target.pk}/refund", {"reason": "bad"}, format="json"
            )
    elif kind == "delete":  # an account's generations go (the ledger stays: it is append-only)
        rng.choice(generations).delete()
    elif kind == "edit":  # staff in the shell: a bulk update that bypasses save()
        target = rng.choice(generations)
        HeadshotGeneration.objects.filter(pk=target.pk).update(
            style=HeadshotStyle.objects.get(
                slug=rng.choice(["corporate", "linkedin", "executive"])
            ),
            processing_ms=rng.choice([None, rng.randint(100, 9000)]),
        )
        GeneratedImage.objects.filter(generation=target).update(attempts=rng.randint(1, 4))
    elif kind == "move":  # a row's day changes
        target = rng.choice(generations)
        HeadshotGeneration.objects.filter(pk=target.pk).update(created_at=_moment(rng))
    elif kind == "backdate":  # a ledger movement whose time is corrected
        tx = Transaction.objects.filter(kind__in=[Kind.CAPTURE, Kind.GRANT]).order_by("?").first()
        Transaction.objects.filter(pk=tx.pk).update(created_at=_moment(rng))
    return kind


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_rollups_equal_the_rows_after_every_kind_of_change(seed, people, staff_user):
    rng = random.Random(seed)
    for _ in range(6):
        _history_step(rng, people, staff_user)
    stored_once = False
    for _ in range(18):
        if rng.random() < 0.4:
            services.metrics_rollups_refresh()
        _history_step(rng, people, staff_user)
        assert_exact()
        start = rng.choice(DAYS)
        assert_exact(start, rng.choice([d for d in DAYS if d >= start]))
        stored_once = stored_once or MetricsDay.objects.exists()
    services.metrics_rollups_refresh()
    assert_exact()
    if connection.vendor == "postgresql":
        # the rollups really were read; every day that ever had rows is built, none dirty
        assert stored_once
        assert MetricsDay.objects.filter(day__in=DAYS).exists()
        assert not MetricsDirtyDay.objects.filter(day__in=DAYS).exists()


def test_in_another_time_zone_the_days_are_local_and_exact(people, staff_user):
    rng = random.Random(7)
    for _ in range(12):
        _history_step(rng, people, staff_user)
    services.metrics_rollups_refresh()
    with timezone.override("Asia/Kolkata"):
        assert_exact()


def _query_count(start: date = FIRST, end: date = LAST) -> int:
    with CaptureQueriesContext(connection) as queries:
        selectors.headshot_metrics(start=start, end=end)
    return len(queries)


def test_query_counts_with_and_without_rollups(people, staff_user):
    rng = random.Random(11)
    for _ in range(10):
        _history_step(rng, people, staff_user)
    HeadshotGeneration.objects.update(processing_ms=1000)  # every day has timed rows
    pg = connection.vendor == "postgresql"
    # nothing built: marks and rollups (PostgreSQL), 6 queries from the rows, style names
    assert _query_count() == (9 if pg else 7)
    services.metrics_rollups_refresh()
    # every day stored: marks, rollups, people, the p95's band, style names
    assert _query_count() == (5 if pg else 7)
    # every row's processing_ms is 1000 (above): this really changes one day's figures
    HeadshotGeneration.objects.filter(pk=HeadshotGeneration.objects.first().pk).update(
        processing_ms=2000
    )
    # one day changed: it is computed from the rows beside the stored ones
    assert _query_count() == (11 if pg else 7)
    assert_exact()


def test_the_triggers_mark_exactly_the_changed_days(people, staff_user):
    needs_postgres()
    generation = spent_generation(people[0], created_at=datetime(2025, 3, 7, 10, tzinfo=UTC))
    services.metrics_rollups_refresh()
    assert not MetricsDirtyDay.objects.filter(day__lt=timezone.now().date()).exists()

    def dirty() -> set[date]:
        return set(
            MetricsDirtyDay.objects.filter(day__lt=date(2026, 1, 1)).values_list("day", flat=True)
        )

    HeadshotGeneration.objects.filter(pk=generation.pk).update(progress=50, is_favorite=True)
    assert dirty() == set()  # nothing the report reads changed
    HeadshotGeneration.objects.filter(pk=generation.pk).update(
        created_at=datetime(2025, 3, 9, 1, tzinfo=UTC)
    )
    assert dirty() == {date(2025, 3, 7), date(2025, 3, 9)}  # the day it left and the one it joined
    services.metrics_rollups_refresh()
    GeneratedImage.objects.filter(generation=generation).update(attempts=3)
    assert dirty() == {date(2025, 3, 9)}
    services.metrics_rollups_refresh()
    generation.delete()  # the images go by cascade
    assert dirty() == {date(2025, 3, 9)}
    services.metrics_rollups_refresh()
    Transaction.objects.filter(kind=Kind.CAPTURE).update(
        created_at=datetime(2025, 3, 8, 5, tzinfo=UTC)
    )
    assert date(2025, 3, 8) in dirty()
    assert_exact()
