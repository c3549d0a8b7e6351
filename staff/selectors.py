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
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import ExtractHour, TruncDate
from django.utils import timezone

from common.errors import ApplicationError, NotFound
from credits.models import Category, Entry, Kind
from headshots.models import GeneratedImage, HeadshotGeneration, HeadshotStyle, Status
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


# PostgreSQL: the per-style counts, the active users and teams and the processing-time p95
# in one scan of the range: hash GROUPING SETS by style, by user, by team and by
# processing time, reduced in SQL to the style rows plus one summary row. The p95 is read
# off the per-value counts exactly as percentile_cont(0.95) picks and interpolates its two
# rows, so no sort of the whole range is needed. GROUPING(...) is 7 for the style set,
# 11 for the user set, 13 for the team set and 14 for the processing-time set.
_GENERATION_TOTALS_SQL = f"""
WITH sets AS (
    SELECT GROUPING(style_id, user_id, team_id, processing_ms) AS grp, style_id, processing_ms,
        count(*) AS n,
        count(*) FILTER (WHERE status = %(completed)s) AS completed,
        count(*) FILTER (WHERE status = %(failed)s) AS failed,
        count(*) FILTER (WHERE status = %(refunded)s) AS refunded,
        sum(processing_ms) AS ms_sum,
        count(processing_ms) AS ms_n
    FROM {HeadshotGeneration._meta.db_table}
    WHERE created_at >= %(since)s AND created_at < %(until)s
    GROUP BY GROUPING SETS ((style_id), (user_id), (team_id), (processing_ms))
), timed AS (
    SELECT processing_ms AS ms, sum(n) OVER (ORDER BY processing_ms) AS up_to
    FROM sets WHERE grp = 14 AND processing_ms IS NOT NULL
), position AS (
    SELECT 0.95::float8 * (max(up_to) - 1) AS at FROM timed
)
SELECT 'style', style.slug, style.name, sets.n, sets.completed, sets.failed, sets.refunded,
    sets.ms_sum, sets.ms_n, NULL::float8
FROM sets JOIN {HeadshotStyle._meta.db_table} style ON style.id = sets.style_id
WHERE sets.grp = 7
UNION ALL
SELECT 'summary', NULL, NULL,
    (SELECT count(*) FROM sets WHERE grp = 11),
    (SELECT count(*) FROM sets WHERE grp = 11 AND n >= 2),
    (SELECT count(*) FROM sets WHERE grp = 13),
    NULL,
    (SELECT min(ms) FROM timed, position WHERE up_to > floor(at)),
    (SELECT min(ms) FROM timed, position WHERE up_to > ceil(at)),
    (SELECT at - floor(at) FROM position)
"""  # noqa: S608 - table names from the models' meta; every value is a parameter


# The generations per local hour: one row per (day, hour) with any, at most 24 a day. The
# hour is truncated once per row; the day and the hour of day are read off the groups.
_GENERATION_HOURS_SQL = f"""
SELECT hour_at::date, extract(hour FROM hour_at)::int, n
FROM (
    SELECT date_trunc('hour', created_at AT TIME ZONE %(tz)s) AS hour_at, count(*) AS n
    FROM {HeadshotGeneration._meta.db_table}
    WHERE created_at >= %(since)s AND created_at < %(until)s
    GROUP BY 1
) hours
"""  # noqa: S608 - the table name from the model's meta; every value is a parameter


@dataclass(frozen=True)
class _GenerationTotals:
    per_style: list[dict]
    active_users: int
    repeat_users: int
    active_teams: int
    p95: float | None


def _generation_totals_postgres(since: datetime, until: datetime) -> _GenerationTotals:
    with connection.cursor() as cursor:
        cursor.execute(
            _GENERATION_TOTALS_SQL,
            {
                "since": since,
                "until": until,
                "completed": Status.COMPLETED,
                "failed": Status.FAILED,
                "refunded": Status.REFUNDED,
            },
        )
        rows = cursor.fetchall()
    keys = ("style__slug", "style__name", "total", "completed", "failed", "refunded")
    keys += ("ms_sum", "ms_n")
    per_style = [dict(zip(keys, row[1:9], strict=True)) for row in rows if row[0] == "style"]
    (_, _, _, users, repeat, teams, _, low, high, fraction) = next(
        row for row in rows if row[0] == "summary"
    )
    # percentile_cont's own arithmetic, in doubles: low + (high - low) * fraction.
    p95 = None if low is None else low + (high - low) * fraction
    return _GenerationTotals(per_style, users, repeat, teams, p95)


def _generation_totals_portable(generations: QuerySet[HeadshotGeneration]) -> _GenerationTotals:
    """The same figures with the ORM, for databases without GROUPING SETS (SQLite)."""
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
    teams = generations.aggregate(n=Count("team_id", distinct=True))["n"]
    users = (
        generations.values("user_id")
        .annotate(n=Count("id"))
        .order_by()
        .aggregate(active=Count("user_id"), repeat=Count("user_id", filter=Q(n__gte=2)))
    )
    timed = sum(row["ms_n"] for row in per_style)
    return _GenerationTotals(
        per_style=per_style,
        active_users=users["active"] or 0,
        repeat_users=users["repeat"] or 0,
        active_teams=teams,
        p95=_p95_fallback(generations, timed),
    )


def _generation_hours(
    generations: QuerySet[HeadshotGeneration], since: datetime, until: datetime
) -> list[tuple[date, int, int]]:
    """(day, hour, generations) in the current time zone, one scan for both charts."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                _GENERATION_HOURS_SQL,
                {"since": since, "until": until, "tz": timezone.get_current_timezone_name()},
            )
            return cursor.fetchall()
    return list(
        generations.annotate(day=TruncDate("created_at"), hour=ExtractHour("created_at"))
        .values("day", "hour")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("day", "hour", "n")
    )


def headshot_metrics(*, start: date, end: date) -> HeadshotMetrics:
    """Everything the analytics page shows, over whole days `start`..`end` (inclusive).

    A fixed number of aggregate queries whatever the row count: 4 on PostgreSQL
    (generation totals, hours, images, credits), 7 on SQLite (no GROUPING SETS, and the p95
    is read by OFFSET).
    """
    since, until = _bounds(start, end)
    generations = HeadshotGeneration.objects.filter(created_at__gte=since, created_at__lt=until)
    if connection.vendor == "postgresql":
        totals = _generation_totals_postgres(since, until)
    else:
        totals = _generation_totals_portable(generations)
    per_style = totals.per_style
    timed = sum(row["ms_n"] for row in per_style)
    p95 = totals.p95

    hours: dict[int, int] = {}
    days: dict[date, int] = {}
    for day, hour, n in _generation_hours(generations, since, until):
        hours[hour] = hours.get(hour, 0) + n
        days[day] = days.get(day, 0) + n
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
        active_teams=totals.active_teams,
        active_users=totals.active_users,
        repeat_users=totals.repeat_users,
    )
