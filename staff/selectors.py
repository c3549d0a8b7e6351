"""Staff reads: the cached site settings, the audit log, and the analytics report.

The analytics report is the one place that reads other apps' tables directly: it is a
read-only, cross-app report made of a fixed handful of GROUP BY queries, and no app's
selectors offer date-ranged totals to build it from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import QuerySet, Sum
from django.utils import timezone

from common.errors import ApplicationError
from credits import selectors as credits_selectors
from credits.selectors import Kind
from headshots import selectors as headshots_selectors
from headshots.selectors import Status
from staff.models import (
    AuditLog,
    MetricsDay,
    MetricsDayTiming,
    MetricsDayUser,
    MetricsDirtyDay,
    SiteSettings,
)

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


def audit_log_for(*, target_type: str, target_id) -> QuerySet[AuditLog]:
    return AuditLog.objects.filter(
        target_type=target_type, target_id=str(target_id)
    ).select_related("actor")


# --- analytics ----------------------------------------------------------------------------------

MAX_RANGE_DAYS = 366
EARLIEST_DAY = date(2000, 1, 1)


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
    """The inclusive day range asked for: the last 30 days by default, at most a year, and
    nothing after today (far dates would overflow the day arithmetic, and hold no rows)."""
    today = timezone.localdate()
    end = end or today
    if end > today or (start and start > today):
        raise ApplicationError("Choose dates up to today.", code="future_range")
    if end < EARLIEST_DAY or (start and start < EARLIEST_DAY):
        raise ApplicationError(
            f"Choose dates from {EARLIEST_DAY.isoformat()} on.", code="range_too_early"
        )
    start = start or max(end - timedelta(days=29), EARLIEST_DAY)
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


# The report over many days reads each closed UTC day from its rollup (staff.models
# MetricsDay and its detail rows, built by staff.services.metrics_rollups_refresh) and computes
# the other days (today, days whose rows changed since their rollup, days never built) from
# the rows, with the same function the rollups are built by. Every figure is exact:
# - counts, sums, hours, images, credits add up over days;
# - active users, repeat users and active teams do not: they are counted over the union of
#   the stored per-(day, user, team) rows and the live ones;
# - the p95 does not either: the stored per-day buckets of TIMING_BUCKET_MS say which band of
#   values holds it, and the exact stored values of that band (an index on processing_ms) and
#   the live ones give the two values percentile_cont(0.95) interpolates between.
# Rollups are read only on PostgreSQL (its triggers mark a day whose rows change: migration
# 0003) and only when the report's days are UTC days; otherwise everything is computed live.

TIMING_BUCKET_MS = 64
ROLLUP_TIME_ZONES = frozenset({"UTC", "Etc/UTC"})
# A style's counters in a day: total, completed, failed, refunded, processing_ms sum, timed.
_STYLE_FIELDS = 6
_STATUS_SLOT = {Status.COMPLETED: 1, Status.FAILED: 2, Status.REFUNDED: 3}


@dataclass
class DayFigures:
    """One day's figures as computed from its rows: what a rollup stores."""

    styles: dict[int, list[int]] = field(default_factory=dict)
    hours: list[int] = field(default_factory=lambda: [0] * 24)
    images: int = 0
    renders: int = 0
    credits: dict[str, int] = field(default_factory=dict)
    users: dict[tuple[int, int], int] = field(default_factory=dict)  # (user, team) -> n
    timing: dict[int, int] = field(default_factory=dict)  # processing_ms -> n

    def timing_buckets(self) -> dict[int, int]:
        buckets: dict[int, int] = {}
        for ms, n in self.timing.items():
            buckets[ms // TIMING_BUCKET_MS] = buckets.get(ms // TIMING_BUCKET_MS, 0) + n
        return buckets


def _spans(days: list[date]) -> list[tuple[datetime, datetime]]:
    """The days as [since, until) instants in the current time zone, consecutive ones merged."""
    spans: list[tuple[date, date]] = []
    for day in sorted(days):
        if spans and spans[-1][1] + timedelta(days=1) == day:
            spans[-1] = (spans[-1][0], day)
        else:
            spans.append((day, day))
    return [_bounds(first, last) for first, last in spans]


def _rows_figures(days: list[date], *, by_day: bool) -> dict[date | None, DayFigures]:
    """The figures of these days computed from the rows, per day or (key None) all together;
    the hours always per day. Six aggregate queries whatever the number of rows or days."""
    spans = _spans(days)
    figures: dict[date | None, DayFigures] = {day: DayFigures() for day in days}
    if not by_day:
        figures[None] = DayFigures()

    def into(row_day: date | None) -> DayFigures:
        return figures[row_day if by_day else None]

    generations = headshots_selectors.generations_reported(spans=spans, by_day=by_day)
    for row_day, hour, n in generations.hours:
        figures[row_day].hours[hour] = n
    for row in generations.by_style:
        style = into(row.get("day")).styles.setdefault(row["style_id"], [0] * _STYLE_FIELDS)
        style[0] += row["n"]
        if row["status"] in _STATUS_SLOT:
            style[_STATUS_SLOT[row["status"]]] += row["n"]
        style[4] += row["ms_sum"] or 0
        style[5] += row["ms_n"]
    for row in generations.by_person:
        into(row.get("day")).users[(row["user_id"], row["team_id"])] = row["n"]
    for row in generations.by_timing:
        into(row.get("day")).timing[row["processing_ms"]] = row["n"]
    for row in headshots_selectors.images_reported(spans=spans, by_day=by_day):
        target = into(row.get("day"))
        target.images, target.renders = row["images"], row["renders"] or 0
    for row in credits_selectors.credits_reported(spans=spans, by_day=by_day):
        into(row.get("day")).credits[row["kind"]] = row["total"]
    return figures


def metrics_days_from_rows(*, days: list[date]) -> dict[date, DayFigures]:
    """Each day's figures computed from the rows, days in the current time zone.

    What `staff.services.metrics_days_build` stores for a closed day; the report computes the
    days it has no valid rollup of with the same function (`_rows_figures`, all days at once),
    so the two cannot disagree. Six aggregate queries whatever the number of rows.
    """
    if not days:
        return {}
    return _rows_figures(days, by_day=True)


def _rollups_readable() -> bool:
    return (
        connection.vendor == "postgresql"
        and timezone.get_current_timezone_name() in ROLLUP_TIME_ZONES
    )


# Distinct users, repeat users and teams over stored days: GROUPING(user_id, team_id) is 1
# for the per-user set and 2 for the per-team set.
_STORED_PEOPLE_SQL = f"""
WITH sets AS (
    SELECT GROUPING(user_id, team_id) AS grp, user_id, team_id, sum(generations) AS n
    FROM {MetricsDayUser._meta.db_table}
    WHERE day = ANY(%(days)s)
    GROUP BY GROUPING SETS ((user_id), (team_id))
)
"""  # noqa: S608 - the table name from the model's meta; every value is a parameter
_STORED_PEOPLE_COUNTS_SQL = (
    _STORED_PEOPLE_SQL  # noqa: S608 - constant text only
    + "SELECT count(*) FILTER (WHERE grp = 1), "
    "count(*) FILTER (WHERE grp = 1 AND n >= 2), count(*) FILTER (WHERE grp = 2) FROM sets"
)
_STORED_PEOPLE_ROWS_SQL = (
    _STORED_PEOPLE_SQL + "SELECT grp, user_id, team_id, n FROM sets"  # noqa: S608 - constant text only
)


def _people(stored_days: list[date], live: DayFigures) -> tuple[int, int, int]:
    """(active users, repeat users, active teams) over the stored and the live days: one
    query when some days are stored (counted in SQL when no day is live), none otherwise."""
    per_user: dict[int, int] = {}
    teams: set[int] = set()
    for (user_id, team_id), n in live.users.items():
        per_user[user_id] = per_user.get(user_id, 0) + n
        teams.add(team_id)
    if stored_days:
        with connection.cursor() as cursor:
            if not per_user:
                cursor.execute(_STORED_PEOPLE_COUNTS_SQL, {"days": stored_days})
                return cursor.fetchone()
            cursor.execute(_STORED_PEOPLE_ROWS_SQL, {"days": stored_days})
            for grp, user_id, team_id, n in cursor.fetchall():
                if grp == 1:
                    per_user[user_id] = per_user.get(user_id, 0) + n
                else:
                    teams.add(team_id)
    repeat = sum(1 for n in per_user.values() if n >= 2)
    return len(per_user), repeat, len(teams)


def _p95(stored: list[MetricsDay], live: DayFigures) -> float | None:
    """percentile_cont(0.95) of every timed generation of the days, exactly.

    The buckets locate the two ranks it interpolates between; only the values of their band
    are read: one query of the stored values when some stored day has any, none otherwise.
    """
    buckets: dict[int, int] = {}
    stored_timed = 0
    for day in stored:
        for bucket, n in day.timing_buckets.items():
            buckets[int(bucket)] = buckets.get(int(bucket), 0) + n
            stored_timed += n
    for bucket, n in live.timing_buckets().items():
        buckets[bucket] = buckets.get(bucket, 0) + n
    total = sum(buckets.values())
    if not total:
        return None
    position = 0.95 * (total - 1)
    ranks = (math.floor(position), math.ceil(position))
    below, seen, band = 0, 0, []
    for bucket in sorted(buckets):
        if seen + buckets[bucket] > ranks[0] and seen <= ranks[1]:
            if not band:
                below = seen
            band.append(bucket)
        seen += buckets[bucket]
    low_ms, high_ms = band[0] * TIMING_BUCKET_MS, (band[-1] + 1) * TIMING_BUCKET_MS
    values: dict[int, int] = {}
    for ms, n in live.timing.items():
        if low_ms <= ms < high_ms:
            values[ms] = values.get(ms, 0) + n
    if stored_timed:
        band_values = (
            MetricsDayTiming.objects.filter(
                day__in=[day.day for day in stored],
                processing_ms__gte=low_ms,
                processing_ms__lt=high_ms,
            )
            .values("processing_ms")
            .annotate(n=Sum("generations"))
            .order_by()
            .values_list("processing_ms", "n")
        )
        for ms, n in band_values:
            values[ms] = values.get(ms, 0) + n
    at: dict[int, int] = {}
    seen = below
    for ms in sorted(values):
        for rank in ranks:
            if rank not in at and seen <= rank < seen + values[ms]:
                at[rank] = ms
        seen += values[ms]
    low, high = at[ranks[0]], at[ranks[1]]
    # percentile_cont's own arithmetic, in doubles: low + (high - low) * fraction.
    return low + (high - low) * (position - ranks[0])


def headshot_metrics(*, start: date, end: date) -> HeadshotMetrics:
    """Everything the analytics page shows, over whole days `start`..`end` (inclusive).

    A fixed number of queries whatever the row count. With every day stored (PostgreSQL):
    the dirty marks, the rollups, the people, the p95's band, the style names: 5. The days not
    stored (today, a changed or never built day, every day on SQLite or in another time zone)
    are computed from the rows, all together, with 6 more queries (`_rows_figures`).
    """
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    stored: list[MetricsDay] = []
    live_days = days
    if _rollups_readable():
        # A closed day is read from its rollup unless marked dirty; a closed day with neither
        # has no rows at all (the triggers mark every day whose rows change, and migration
        # 0003 marked every day that had rows), so it counts as empty.
        today = timezone.now().date()
        dirty = set(
            MetricsDirtyDay.objects.filter(day__gte=start, day__lte=end).values_list(
                "day", flat=True
            )
        )
        stored = [
            row
            for row in MetricsDay.objects.filter(day__gte=start, day__lte=end, day__lt=today)
            if row.day not in dirty
        ]
        live_days = [day for day in days if day >= today or day in dirty]
    stored_days = [day.day for day in stored]
    live = _rows_figures(live_days, by_day=False) if live_days else {}
    together = live.pop(None, DayFigures())  # the live days' figures but their hours

    styles: dict[int, list[int]] = {}
    hours = [0] * 24
    per_day: dict[date, int] = {}
    images, renders = together.images, together.renders
    credits: dict[str, int] = dict(together.credits)

    def add_styles(day_styles: dict) -> None:
        for style_id, counters in day_styles.items():
            into = styles.setdefault(int(style_id), [0] * _STYLE_FIELDS)
            for i, value in enumerate(counters):
                into[i] += value

    def add_hours(day: date, day_hours: list[int]) -> None:
        for hour, n in enumerate(day_hours):
            hours[hour] += n
        per_day[day] = sum(day_hours)

    add_styles(together.styles)
    for day, figures in live.items():
        add_hours(day, figures.hours)
    for row in stored:
        add_styles(row.styles)
        add_hours(row.day, row.hours)
        images += row.images
        renders += row.renders
        for kind, total in (
            (Kind.GRANT, row.credits_sold),
            (Kind.CAPTURE, row.credits_captured),
            (Kind.REFUND, row.credits_refunded),
            (Kind.CLAWBACK, row.credits_clawed_back),
        ):
            credits[kind] = credits.get(kind, 0) + total

    active_users, repeat_users, active_teams = _people(stored_days, together)
    p95 = _p95(stored, together)
    names = headshots_selectors.style_names(style_ids=styles)
    by_style = sorted(
        (
            StyleMetrics(
                slug=names[style_id][0],
                name=names[style_id][1],
                total=total,
                completed=completed,
                failed=failed,
                refunded=refunded,
                avg_ms=round(ms_sum / ms_n, 1) if ms_n else None,
            )
            for style_id, (total, completed, failed, refunded, ms_sum, ms_n) in styles.items()
        ),
        key=lambda s: (-s.total, s.name),
    )
    count = [sum(counters[i] for counters in styles.values()) for i in range(_STYLE_FIELDS)]
    total, completed, failed, refunded, total_ms, timed = count
    return HeadshotMetrics(
        start=start,
        end=end,
        total=total,
        completed=completed,
        failed=failed,
        refunded=refunded,
        running=total - completed - failed - refunded,
        avg_ms=round(total_ms / timed, 1) if timed else None,
        p95_ms=round(p95, 1) if p95 is not None else None,
        images=images,
        renders=renders,
        identity_rejections=renders - images,
        by_style=by_style,
        by_hour=hours,
        by_day=[(day, per_day.get(day, 0)) for day in days],
        credits_sold=credits.get(Kind.GRANT) or 0,
        credits_captured=credits.get(Kind.CAPTURE) or 0,
        credits_refunded=credits.get(Kind.REFUND) or 0,
        credits_clawed_back=credits.get(Kind.CLAWBACK) or 0,
        active_teams=active_teams,
        active_users=active_users,
        repeat_users=repeat_users,
    )
