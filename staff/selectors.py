"""Staff reads: the cached site settings, the audit log, and the analytics report.

The analytics report is the one place that reads other apps' tables directly: it is a
read-only, cross-app report made of a fixed handful of GROUP BY queries, and no app's
selectors offer date-ranged totals to build it from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Aggregate, Count, FloatField, Q, QuerySet, Sum
from django.db.models.functions import ExtractHour, TruncDate
from django.utils import timezone

from common.errors import ApplicationError, NotFound
from credits.models import Category, Entry, Kind
from headshots.models import GeneratedImage, HeadshotGeneration, Status
from staff.models import AuditLog, SiteSettings
from teams.models import Team

# --- site settings ----------------------------------------------------------------------------

SITE_SETTINGS_CACHE_KEY = "staff:site-settings:v1"
# Other processes (workers, other web servers) see an edit within this many seconds with a
# per-process cache; at once when CACHES points at a shared cache (Redis).
SITE_SETTINGS_CACHE_SECONDS = 60
SITE_SETTINGS_FIELDS = (
    "identity_threshold",
    "max_runs",
    "retention_minutes",
    "max_batch_size",
    "signup_bonus",
    "engine_preset",
)
_NO_ROW = "no-row"


@dataclass(frozen=True)
class SiteConfig:
    identity_threshold: float
    max_runs: int
    retention_minutes: int
    max_batch_size: int
    signup_bonus: int
    engine_preset: str


def site_settings_defaults() -> dict:
    """The deploy's values (config/settings.py, from the environment), read live."""
    from generation.identity import DEFAULT_IDENTITY_THRESHOLD
    from headshots.pricing import MAX_BATCH_SIZE

    return {
        "identity_threshold": getattr(
            settings, "HEADSHOT_IDENTITY_THRESHOLD", DEFAULT_IDENTITY_THRESHOLD
        ),
        "max_runs": settings.HEADSHOT_MAX_RUNS,
        "retention_minutes": settings.HEADSHOT_RETENTION_MINUTES,
        "max_batch_size": getattr(settings, "HEADSHOT_MAX_BATCH_SIZE", MAX_BATCH_SIZE),
        "signup_bonus": settings.CREDITS_SIGNUP_BONUS,
        "engine_preset": settings.ENGINE_PRESET,
    }


def site_settings() -> SiteConfig:
    """The rules in force: the staff-edited row, else the deploy's defaults.

    Cached (one query per process per minute at most); `site_settings_update` refreshes the
    cache. Without a row the defaults are read live, so an environment change (or a test's
    `settings` override) applies until staff first save the page.
    """
    stored = cache.get(SITE_SETTINGS_CACHE_KEY)
    if stored is None:
        row = SiteSettings.objects.filter(pk=SiteSettings.SINGLETON_ID).values(
            *SITE_SETTINGS_FIELDS
        )
        stored = row.first() or _NO_ROW
        cache.set(SITE_SETTINGS_CACHE_KEY, stored, SITE_SETTINGS_CACHE_SECONDS)
    values = site_settings_defaults() if stored == _NO_ROW else stored
    return SiteConfig(**values)


def site_settings_clear_cache() -> None:
    cache.delete(SITE_SETTINGS_CACHE_KEY)


def team_for_staff(*, team_id) -> Team:
    """Any team, by id: staff act on every team (members see theirs through teams.selectors)."""
    try:
        return Team.objects.get(pk=int(team_id))
    except (Team.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such team.") from None


def audit_log_for(*, target_type: str, target_id) -> QuerySet[AuditLog]:
    return AuditLog.objects.filter(
        target_type=target_type, target_id=str(target_id)
    ).select_related("actor")


# --- analytics ----------------------------------------------------------------------------------

MAX_RANGE_DAYS = 366


class Percentile(Aggregate):
    """PostgreSQL's percentile_cont: the linear-interpolated percentile of a column."""

    function = "percentile_cont"
    name = "Percentile"
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


@dataclass(frozen=True)
class StyleMetrics:
    slug: str
    name: str
    total: int
    completed: int
    failed: int
    refunded: int
    avg_ms: float | None


@dataclass(frozen=True)
class HeadshotMetrics:
    start: date
    end: date
    total: int
    completed: int
    failed: int
    refunded: int
    running: int
    avg_ms: float | None
    p95_ms: float | None
    images: int
    renders: int
    identity_rejections: int
    by_style: list[StyleMetrics]
    by_hour: list[int]
    by_day: list[tuple[date, int]]
    credits_sold: int
    credits_captured: int
    credits_refunded: int
    credits_clawed_back: int
    active_teams: int
    active_users: int
    repeat_users: int

    @property
    def finished(self) -> int:
        return self.completed + self.failed + self.refunded

    def _share(self, part: int) -> float | None:
        return round(part / self.finished, 4) if self.finished else None

    @property
    def success_rate(self) -> float | None:
        """Completed (and kept) generations as a share of finished ones."""
        return self._share(self.completed)

    @property
    def failure_rate(self) -> float | None:
        return self._share(self.failed)

    @property
    def refund_rate(self) -> float | None:
        return self._share(self.refunded)

    @property
    def rejection_rate(self) -> float | None:
        """Renders the identity check turned down, as a share of all renders."""
        return round(self.identity_rejections / self.renders, 4) if self.renders else None

    @property
    def credits_spent(self) -> int:
        """What members paid for and kept: captured minus refunded."""
        return self.credits_captured - self.credits_refunded


def metrics_range(*, start: date | None, end: date | None) -> tuple[date, date]:
    """The inclusive day range asked for: the last 30 days by default, at most a year."""
    end = end or timezone.localdate()
    start = start or end - timedelta(days=29)
    if start > end:
        raise ApplicationError("The start date must not be after the end date.", code="bad_range")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise ApplicationError(
            f"Choose at most {MAX_RANGE_DAYS} days at a time.", code="range_too_long"
        )
    return start, end


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    )


def _p95_fallback(qs: QuerySet[HeadshotGeneration], n: int) -> float | None:
    """percentile_cont(0.95) without the database's help: two rows read by OFFSET."""
    position = 0.95 * (n - 1) if n else 0
    low = math.floor(position)
    values = list(
        qs.filter(processing_ms__isnull=False)
        .order_by("processing_ms")
        .values_list("processing_ms", flat=True)[low : low + 2]
    )
    if not values:
        return None
    if len(values) == 1:
        return float(values[0])
    return values[0] + (values[1] - values[0]) * (position - low)


def headshot_metrics(*, start: date, end: date) -> HeadshotMetrics:
    """Everything the analytics page shows, over whole days `start`..`end` (inclusive).

    A fixed number of aggregate queries whatever the row count (6 on PostgreSQL, 7 on
    SQLite, which has no percentile_cont and reads the p95 by OFFSET instead).
    """
    since, until = _bounds(start, end)
    generations = HeadshotGeneration.objects.filter(created_at__gte=since, created_at__lt=until)
    postgres = connection.vendor == "postgresql"

    per_style = list(
        generations.values("style__slug", "style__name")
        .annotate(
            total=Count("id"),
            completed=Count("id", filter=Q(status=Status.COMPLETED)),
            failed=Count("id", filter=Q(status=Status.FAILED)),
            refunded=Count("id", filter=Q(status=Status.REFUNDED)),
            ms_sum=Sum("processing_ms"),
            ms_n=Count("processing_ms"),
        )
        .order_by()
    )
    overall_aggregates = {"active_teams": Count("team_id", distinct=True)}
    if postgres:
        overall_aggregates["p95"] = Percentile("processing_ms", 0.95)
    overall = generations.aggregate(**overall_aggregates)
    timed = sum(row["ms_n"] for row in per_style)
    p95 = overall.get("p95") if postgres else _p95_fallback(generations, timed)

    # One scan for both charts: at most 24 rows a day.
    hours: dict[int, int] = {}
    days: dict[date, int] = {}
    for day, hour, n in (
        generations.annotate(day=TruncDate("created_at"), hour=ExtractHour("created_at"))
        .values("day", "hour")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("day", "hour", "n")
    ):
        hours[hour] = hours.get(hour, 0) + n
        days[day] = days.get(day, 0) + n
    users = (
        generations.values("user_id")
        .annotate(n=Count("id"))
        .order_by()
        .aggregate(active=Count("user_id"), repeat=Count("user_id", filter=Q(n__gte=2)))
    )
    images = GeneratedImage.objects.filter(
        generation__created_at__gte=since, generation__created_at__lt=until
    ).aggregate(images=Count("id"), renders=Sum("attempts"))
    # Each movement's credits are its positive legs: the member's grant, spend's capture,
    # the member's refund, purchases' clawback.
    credits = dict(
        Entry.objects.filter(
            amount__gt=0,
            transaction__created_at__gte=since,
            transaction__created_at__lt=until,
        )
        .filter(
            Q(transaction__kind=Kind.GRANT, transaction__category=Category.PURCHASE)
            | Q(transaction__kind__in=[Kind.CAPTURE, Kind.REFUND, Kind.CLAWBACK])
        )
        .values("transaction__kind")
        .annotate(total=Sum("amount"))
        .order_by()
        .values_list("transaction__kind", "total")
    )

    total_ms = sum(row["ms_sum"] or 0 for row in per_style)
    count = {
        key: sum(row[key] for row in per_style)
        for key in ("total", "completed", "failed", "refunded")
    }
    by_style = sorted(
        (
            StyleMetrics(
                slug=row["style__slug"],
                name=row["style__name"],
                total=row["total"],
                completed=row["completed"],
                failed=row["failed"],
                refunded=row["refunded"],
                avg_ms=round(row["ms_sum"] / row["ms_n"], 1) if row["ms_n"] else None,
            )
            for row in per_style
        ),
        key=lambda s: (-s.total, s.name),
    )
    renders = images["renders"] or 0
    return HeadshotMetrics(
        start=start,
        end=end,
        total=count["total"],
        completed=count["completed"],
        failed=count["failed"],
        refunded=count["refunded"],
        running=count["total"] - count["completed"] - count["failed"] - count["refunded"],
        avg_ms=round(total_ms / timed, 1) if timed else None,
        p95_ms=round(p95, 1) if p95 is not None else None,
        images=images["images"],
        renders=renders,
        identity_rejections=renders - images["images"],
        by_style=by_style,
        by_hour=[hours.get(hour, 0) for hour in range(24)],
        by_day=[
            (start + timedelta(days=i), days.get(start + timedelta(days=i), 0))
            for i in range((end - start).days + 1)
        ],
        credits_sold=credits.get(Kind.GRANT) or 0,
        credits_captured=credits.get(Kind.CAPTURE) or 0,
        credits_refunded=credits.get(Kind.REFUND) or 0,
        credits_clawed_back=credits.get(Kind.CLAWBACK) or 0,
        active_teams=overall["active_teams"],
        active_users=users["active"] or 0,
        repeat_users=users["repeat"] or 0,
    )
