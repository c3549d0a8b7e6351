"""Staff writes: refunds, manual credit adjustments and site settings, each audited.

Every function takes the acting staff user, refuses anyone else, and writes its AuditLog
row in the same database transaction as the change it records: there is never a refund
without its log line, nor a log line for a refund that rolled back.
"""

from __future__ import annotations

from datetime import UTC, date
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from common.errors import ApplicationError, Conflict, Forbidden, NotFound
from common.text import clean_text
from credits import services as credits_services
from headshots import services as headshots_services
from staff import selectors
from staff.models import (
    AuditAction,
    AuditLog,
    MetricsDay,
    MetricsDayTiming,
    MetricsDayUser,
    MetricsDirtyDay,
    SiteSettings,
)
from staff.selectors import (
    SITE_SETTINGS_FIELDS,
    site_settings,
    site_settings_clear_cache,
    site_settings_defaults,
)
from teams import selectors as teams_selectors

REASON_MAX_LENGTH = 500


def _require_staff(actor) -> None:
    if actor is None or not actor.is_active or not actor.is_staff:
        raise Forbidden("Only staff can do this.")


def _clean_reason(reason: str) -> str:
    return clean_text(
        reason,
        label="reason",
        limit=REASON_MAX_LENGTH,
        required_message="Give a reason: it is kept in the ledger and the audit log.",
        multiline=True,
    )


def audit_log_record(
    *,
    actor,
    action: AuditAction,
    target_type: str,
    target_id: Any,
    target_repr: str,
    reason: str = "",
    amount: int | None = None,
    team_id: int | None = None,
    user_id: int | None = None,
    ledger_keys: list[str] | None = None,
    data: dict | None = None,
) -> AuditLog:
    entry = AuditLog(
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        target_repr=target_repr[:200],
        reason=reason,
        amount=amount,
        team_id=team_id,
        user_id=user_id,
        ledger_keys=ledger_keys or [],
        data=data or {},
    )
    entry.full_clean()
    entry.save()
    return entry


@transaction.atomic
def staff_headshot_refund(
    *, actor, generation_id: int, reason: str, image_ids: list[int] | None = None
) -> AuditLog:
    """Refund a generation (or some of its images) to the member who paid; 409 if done before."""
    _require_staff(actor)
    reason = _clean_reason(reason)
    refund = headshots_services.headshot_refund(
        generation_id=generation_id, actor_id=actor.pk, reason=reason, image_ids=image_ids
    )
    generation = refund.generation
    return audit_log_record(
        actor=actor,
        action=AuditAction.REFUND,
        target_type="headshot",
        target_id=generation.pk,
        target_repr=f"headshot #{generation.pk}",
        reason=reason,
        amount=refund.amount,
        team_id=generation.team_id,
        user_id=generation.user_id,
        ledger_keys=refund.ledger_keys,
        data={
            "image_ids": refund.image_ids,
            "whole": image_ids is None,
            "status": generation.status,
            "credits_refunded": generation.credits_refunded,
        },
    )


@transaction.atomic
def staff_credits_adjust(
    *, actor, team_id: int, amount: int, reason: str, key: str, user_id: int | None = None
) -> AuditLog:
    """Add (positive) or take (negative) credits on a member's allocation or a team's pool.

    `key` makes the adjustment happen once: the same key again is refused with 409 and
    moves nothing (a double-submitted form, a retried request).
    """
    _require_staff(actor)
    reason = _clean_reason(reason)
    if user_id is not None:
        member = get_user_model().objects.filter(pk=user_id).first()
        if member is None:
            raise NotFound("No such user.")
        try:
            team = teams_selectors.team_get_for_member(user=member, team_id=team_id)
        except NotFound:
            raise NotFound("That user is not a member of that team.") from None
        target_type, target_id, target_repr = (
            "member",
            f"{team.pk}:{member.pk}",
            f"{member} in {team}",
        )
    else:
        team = teams_selectors.team_get(team_id=team_id)
        target_type, target_id, target_repr = "team", team.pk, f"pool of {team}"
    ledger_key = f"staff-adjust:{key}"
    movement = credits_services.credits_adjust(
        team_id=team.pk,
        user_id=user_id,
        amount=amount,
        key=ledger_key,
        actor_id=actor.pk,
        reason=reason,
    )
    if not movement.created:
        raise Conflict("This adjustment was already made.", code="already_adjusted")
    return audit_log_record(
        actor=actor,
        action=AuditAction.ADJUST,
        target_type=target_type,
        target_id=target_id,
        target_repr=target_repr,
        reason=reason,
        amount=amount,
        team_id=team.pk,
        user_id=user_id,
        ledger_keys=[ledger_key],
    )


@transaction.atomic
def site_settings_update(*, actor, reason: str = "", **values) -> SiteSettings:
    """Change the site settings; the new values apply from the next read in every process
    (at once in this one, within the cache lifetime elsewhere with a per-process cache)."""
    _require_staff(actor)
    unknown = set(values) - set(SITE_SETTINGS_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown settings: {', '.join(sorted(unknown))}.", code="invalid")
    row = SiteSettings.objects.select_for_update().filter(pk=SiteSettings.SINGLETON_ID).first()
    before = (
        {name: getattr(row, name) for name in SITE_SETTINGS_FIELDS}
        if row is not None
        else site_settings_defaults()
    )
    if row is None:
        row = SiteSettings(pk=SiteSettings.SINGLETON_ID, **before)
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_by = actor
    row.full_clean()
    row.save()
    changed = {
        name: [before[name], getattr(row, name)]
        for name in SITE_SETTINGS_FIELDS
        if before[name] != getattr(row, name)
    }
    if changed:
        audit_log_record(
            actor=actor,
            action=AuditAction.SETTINGS,
            target_type="site_settings",
            target_id=row.pk,
            target_repr="site settings",
            reason=reason,
            data={"changed": changed},
        )
    # Now, so this process reads the new values at once; and after commit, so a reader
    # that refilled the cache from the old row in between does not keep it.
    site_settings_clear_cache()
    transaction.on_commit(site_settings_clear_cache)
    return row


def site_settings_get_or_create(*, actor) -> SiteSettings:
    """The row staff edit; made from the deploy's defaults the first time it is opened."""
    _require_staff(actor)
    row = SiteSettings.objects.filter(pk=SiteSettings.SINGLETON_ID).first()
    if row is not None:
        return row
    current = site_settings()
    with transaction.atomic():
        row, _ = SiteSettings.objects.get_or_create(
            pk=SiteSettings.SINGLETON_ID,
            defaults={name: getattr(current, name) for name in SITE_SETTINGS_FIELDS},
        )
    site_settings_clear_cache()
    transaction.on_commit(site_settings_clear_cache)
    return row


# --- analytics rollups --------------------------------------------------------------------------

ROLLUP_DAYS_PER_TRANSACTION = 31
# Serialises refreshes (two beat runs, a manual one): pg_advisory_xact_lock's key.
ROLLUP_LOCK_KEY = 0x57AF_0001


def metrics_rollups_refresh() -> int:
    """Build the rollup of every closed UTC day (before today) marked dirty; return how many.

    A day is marked by the triggers of migration 0003 whenever a row its figures read changes
    (and every day that had rows when they were installed), so this builds new days and
    rebuilds changed ones, and nothing else. PostgreSQL only: elsewhere the report never
    reads rollups. Run by the `staff.metrics_rollups_refresh` beat task; safe to run at any
    time and concurrently with writers and with itself.
    """
    if connection.vendor != "postgresql":
        return 0
    today = timezone.now().astimezone(UTC).date()
    days = list(
        MetricsDirtyDay.objects.filter(day__lt=today).order_by("day").values_list("day", flat=True)
    )
    for first in range(0, len(days), ROLLUP_DAYS_PER_TRANSACTION):
        metrics_days_build(days=days[first : first + ROLLUP_DAYS_PER_TRANSACTION])
    return len(days)


@transaction.atomic
def metrics_days_build(*, days: list[date]) -> list[MetricsDay]:
    """(Re)build the rollups of these closed UTC days from their rows.

    The days' dirty marks are deleted *before* their rows are read, in this transaction: a
    change committed after the reads marks its day again (a writer whose mark collides with
    a deleted one waits for this transaction, then inserts it), so no change is ever lost;
    at worst a day is built twice. Callers pass days before today (UTC): today's rows are
    still changing and the report always computes today from its rows.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROLLUP_LOCK_KEY])
    MetricsDirtyDay.objects.filter(day__in=days).delete()
    with timezone.override(UTC):
        figures = selectors.metrics_days_from_rows(days=days)
    MetricsDayUser.objects.filter(day__in=days).delete()
    MetricsDayTiming.objects.filter(day__in=days).delete()
    built_at = timezone.now()
    rows = [
        MetricsDay(
            day=day,
            styles={str(style_id): counters for style_id, counters in day_figures.styles.items()},
            hours=day_figures.hours,
            timing_buckets={str(b): n for b, n in day_figures.timing_buckets().items()},
            images=day_figures.images,
            renders=day_figures.renders,
            credits_sold=day_figures.credits.get(selectors.Kind.GRANT, 0),
            credits_captured=day_figures.credits.get(selectors.Kind.CAPTURE, 0),
            credits_refunded=day_figures.credits.get(selectors.Kind.REFUND, 0),
            credits_clawed_back=day_figures.credits.get(selectors.Kind.CLAWBACK, 0),
            built_at=built_at,
        )
        for day, day_figures in figures.items()
    ]
    MetricsDay.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["day"],
        update_fields=[f.name for f in MetricsDay._meta.concrete_fields if not f.primary_key],
    )
    MetricsDayUser.objects.bulk_create(
        [
            MetricsDayUser(day=day, user_id=user_id, team_id=team_id, generations=n)
            for day, day_figures in figures.items()
            for (user_id, team_id), n in day_figures.users.items()
        ],
        batch_size=5_000,
    )
    MetricsDayTiming.objects.bulk_create(
        [
            MetricsDayTiming(day=day, processing_ms=ms, generations=n)
            for day, day_figures in figures.items()
            for ms, n in day_figures.timing.items()
        ],
        batch_size=5_000,
    )
    return rows
