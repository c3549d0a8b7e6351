"""The life of a headshot generation: submit, run, retry, reconcile, clean up; and member actions.

Credits: submit holds the full price under `generation.hold_key`; each delivered image
captures its own cost (keyed by image index, so a re-run never charges twice); whatever
was not delivered is released when the run ends. A run that dies is picked up by
`headshot_reconcile`, which re-queues it or fails it and releases its hold.
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from common.api import storable_key
from common.errors import ApplicationError, Conflict, NotFound
from common.jobs import DATABASE_ERRORS, job_failure_reason, jobs_reconcile
from common.links import site_url
from credits import services as credits_services
from headshots import engine
from headshots.models import (
    AspectRatio,
    Event,
    GeneratedImage,
    HeadshotGeneration,
    HeadshotStyle,
    Quality,
    Status,
)
from headshots.pricing import headshot_image_cost, headshot_price
from headshots.selectors import headshot_get, style_policy_for_team, styles_for_team
from staff.selectors import site_settings
from teams import selectors as teams_selectors

logger = logging.getLogger(__name__)

RUNNING = (Status.QUEUED, Status.PROCESSING)
_STUCK = ApplicationError("The job stopped responding.", code="stuck")


@dataclass(frozen=True)
class Estimate:
    style: HeadshotStyle
    quality: str
    aspect_ratio: str
    batch_size: int
    credits: int


def headshot_estimate(
    *, user, team_id: int | None, style_slug: str, quality: str, aspect_ratio: str, batch_size: int
) -> Estimate:
    """Validate a request and price it: the one place the estimate, the submit and pages agree."""
    team = headshot_team(user, team_id)
    if quality not in Quality.values:
        raise ApplicationError(
            f"Quality must be one of: {', '.join(Quality.values)}.", code="invalid_quality"
        )
    if aspect_ratio not in AspectRatio.values:
        raise ApplicationError(
            f"Aspect ratio must be one of: {', '.join(AspectRatio.values)}.",
            code="invalid_aspect_ratio",
        )
    max_batch_size = site_settings().max_batch_size
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, int)
        or not 1 <= batch_size <= max_batch_size
    ):
        raise ApplicationError(
            f"Batch size must be 1 to {max_batch_size}.", code="invalid_batch_size"
        )
    style = next((s for s in styles_for_team(team=team) if s.slug == style_slug), None)
    if style is None:
        raise ApplicationError("That style is not available to your team.", code="invalid_style")
    credits = headshot_price(
        base_cost=style.base_cost,
        is_premium=style.is_premium,
        quality=quality,
        batch_size=batch_size,
    )
    return Estimate(
        style=style,
        quality=quality,
        aspect_ratio=aspect_ratio,
        batch_size=batch_size,
        credits=credits,
    )


def headshot_team(user, team_id: int | str | None):
    """The team a member charges: the one named, else their personal team, else their first."""
    if team_id not in (None, ""):
        return teams_selectors.team_get_for_member(user=user, team_id=team_id)
    team = teams_selectors.team_personal_for_user(user=user)
    if team is None:
        first = teams_selectors.memberships_for_user(user=user).first()
        if first is None:
            raise ApplicationError("Join or create a team first.", code="team_required")
        team = first.team
    return team


def _read_upload(photo) -> bytes:
    if photo is None:
        raise ApplicationError(
            "Attach a photo of yourself (JPEG, PNG or WebP).", code="photo_required"
        )
    size = getattr(photo, "size", None)
    if size is not None and size > settings.HEADSHOT_MAX_UPLOAD_BYTES:
        limit = settings.HEADSHOT_MAX_UPLOAD_BYTES // (1024 * 1024)
        raise ApplicationError(
            f"The photo is larger than {limit} MB.", code="photo_too_large", status=413
        )
    data = photo.read(settings.HEADSHOT_MAX_UPLOAD_BYTES + 1)
    if len(data) > settings.HEADSHOT_MAX_UPLOAD_BYTES:
        limit = settings.HEADSHOT_MAX_UPLOAD_BYTES // (1024 * 1024)
        raise ApplicationError(
            f"The photo is larger than {limit} MB.", code="photo_too_large", status=413
        )
    return data


def headshot_inspect(*, photo) -> engine.InspectionResult:
    """Score an upload for the member before they pay (no credits, nothing stored)."""
    return engine.inspect(_read_upload(photo))


class _Photo:
    """An upload read once: hashed, inspected and normalised at most once, however many
    styles a batch submits it for (the checks of an 8 MP photo are most of a submit)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.digest = hashlib.sha256(data).hexdigest()

    @cached_property
    def inspection(self) -> engine.InspectionResult:
        return engine.inspect(self.data)

    @cached_property
    def source(self) -> bytes:
        return engine.normalise(self.data, inspected=self.inspection.ok)


def _fingerprint(*parts) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def headshot_submit(
    *,
    user,
    team_id: int | None,
    style_slug: str,
    aspect_ratio: str,
    quality: str,
    batch_size: int,
    photo=None,
    idempotency_key: str | None = None,
    batch_id: uuid.UUID | None = None,
) -> tuple[HeadshotGeneration, bool]:
    """Inspect the photo, hold the credits, queue the job. Returns (generation, created).

    Nothing is charged or stored when any check fails. The same idempotency key with the
    same request returns the first generation; with a different request it is a 409.
    `photo` is the uploaded file (or, from a batch, the `_Photo` already read).
    """
    idempotency_key = storable_key(idempotency_key)
    estimate = headshot_estimate(
        user=user,
        team_id=team_id,
        style_slug=style_slug,
        quality=quality,
        aspect_ratio=aspect_ratio,
        batch_size=batch_size,
    )
    team = headshot_team(user, team_id)
    upload = photo if isinstance(photo, _Photo) else _Photo(_read_upload(photo))
    fingerprint = _fingerprint(
        team.id, style_slug, aspect_ratio, quality, batch_size, upload.digest
    )
    if idempotency_key:
        existing = HeadshotGeneration.objects.filter(
            user=user, idempotency_key=idempotency_key
        ).first()
        if existing is not None:
            return _replay(existing, fingerprint), False

    inspection = upload.inspection
    if not inspection.ok:
        raise ApplicationError(
            "This photo can't be used: " + " ".join(inspection.reasons),
            code="photo_rejected",
            status=422,
        )
    source = upload.source

    generation = HeadshotGeneration(
        user=user,
        team=team,
        style=estimate.style,
        aspect_ratio=aspect_ratio,
        quality=quality,
        batch_size=batch_size,
        credits_held=estimate.credits,
        inspection=inspection.as_dict(),
        idempotency_key=idempotency_key or None,
        request_fingerprint=fingerprint,
        batch_id=batch_id,
        metadata={
            "seed": random.SystemRandom().randrange(1, 2**31),
            # The price quoted at submit: staff may edit the style while the job runs.
            "base_cost": estimate.style.base_cost,
            "is_premium": estimate.style.is_premium,
        },
    )
    generation.source.save("upload.jpg", ContentFile(source), save=False)
    try:
        with transaction.atomic():
            generation.save()
            credits_services.credits_hold(
                team_id=team.id,
                user_id=user.id,
                amount=estimate.credits,
                key=generation.hold_key,
                category=credits_services.Category.HEADSHOT,
                reference=f"headshot:{generation.pk}",
                memo=f"Headshots: {estimate.style.name}, {batch_size} image(s)",
            )
            Event.objects.create(
                name=Event.Name.STARTED,
                user=user,
                generation=generation,
                data={"style": style_slug},
            )
            transaction.on_commit(lambda: _enqueue(generation.pk))
    except IntegrityError:
        generation.source.delete(save=False)
        existing = HeadshotGeneration.objects.filter(
            user=user, idempotency_key=idempotency_key
        ).first()
        if existing is None:
            raise
        return _replay(existing, fingerprint), False
    except Exception:
        generation.source.delete(save=False)
        raise
    return generation, True


def _replay(existing: HeadshotGeneration, fingerprint: str) -> HeadshotGeneration:
    if existing.request_fingerprint != fingerprint:
        raise Conflict(
            "This Idempotency-Key was already used for a different request.",
            code="idempotency_key_reused",
        )
    return existing


def headshot_submit_batch(
    *,
    user,
    team_id: int | None,
    style_slugs: list[str],
    aspect_ratio: str,
    quality: str,
    batch_size: int,
    photo,
    idempotency_key: str | None = None,
) -> list[HeadshotGeneration]:
    """One photo, several styles: one generation each, all or nothing."""
    slugs = list(dict.fromkeys(style_slugs))
    if not slugs:
        raise ApplicationError("Pick at least one style.", code="styles_required")
    if len(slugs) > 11:
        raise ApplicationError("Pick at most 11 styles at once.", code="too_many_styles")
    upload = _Photo(_read_upload(photo))
    batch_id = uuid.uuid4()
    with transaction.atomic():
        return [
            headshot_submit(
                user=user,
                team_id=team_id,
                style_slug=slug,
                aspect_ratio=aspect_ratio,
                quality=quality,
                batch_size=batch_size,
                photo=upload,
                idempotency_key=f"{idempotency_key}:{slug}" if idempotency_key else None,
                batch_id=batch_id,
            )[0]
            for slug in slugs
        ]


def _enqueue(generation_id: int) -> None:
    from headshots.tasks import headshot_run_task

    try:
        headshot_run_task.delay(generation_id)
    except Exception:
        logger.exception(
            "could not enqueue headshot %s; the reconciler will pick it up", generation_id
        )


# --- the job ---------------------------------------------------------------------------------


def headshot_run(*, generation_id: int) -> HeadshotGeneration | None:
    """Render every image of a generation, capture per image, release the rest. Idempotent."""
    with transaction.atomic():
        generation = (
            HeadshotGeneration.objects.select_for_update()
            .select_related("style", "team")
            .filter(pk=generation_id, status__in=RUNNING)
            .first()
        )
        if generation is None:
            return None  # finished, or re-queued twice and already done: nothing to do
        now = timezone.now()
        generation.status = Status.PROCESSING
        generation.started_at = generation.started_at or now
        generation.save(update_fields=["status", "started_at", "updated_at"])

    started = time.monotonic()
    failure: Exception | None = None
    try:
        _render_all(generation)
    except DATABASE_ERRORS:
        raise  # the database went away: the task runs this again, nothing is settled
    except Exception as error:
        logger.exception("headshot %s failed", generation.pk)
        failure = error
    return _finish(generation, failure, elapsed_ms=int((time.monotonic() - started) * 1000))


def _render_all(generation: HeadshotGeneration) -> None:
    """Render the images not yet delivered; raise the last engine error if any image failed."""
    spec = engine.style_spec(generation.style, style_policy_for_team(team=generation.team))
    try:
        with generation.source.open("rb") as handle:
            source = handle.read()
    except (FileNotFoundError, ValueError, OSError) as error:
        raise ApplicationError(
            "The uploaded photo could not be read back from storage.", code="source_missing"
        ) from error
    done = set(generation.images.values_list("index", flat=True))
    seed = int(generation.metadata.get("seed", generation.pk))
    last_error: Exception | None = None
    for index in range(generation.batch_size):
        if index in done:
            continue
        try:
            outcome = engine.render_one(
                source=source,
                spec=spec,
                aspect_ratio=generation.aspect_ratio,
                quality=generation.quality,
                seed=seed + index,
                variation=index,
            )
        except engine.EngineError as error:
            logger.warning("headshot %s image %s failed: %s", generation.pk, index, error)
            last_error = error
            continue
        _deliver(generation, index, outcome)
    if last_error is not None:
        raise last_error


def _deliver(generation: HeadshotGeneration, index: int, outcome: engine.RenderOutcome) -> None:
    image = GeneratedImage(
        generation=generation,
        index=index,
        width=outcome.width,
        height=outcome.height,
        seed=outcome.seed,
        identity_score=outcome.identity_score,
        quality_score=outcome.quality_score,
        attempts=outcome.attempts,
        engine=outcome.engine,
        model_name=outcome.model,
        metadata=outcome.metadata,
    )
    image.image.save(f"{index}.jpg", ContentFile(outcome.jpeg), save=False)
    image.image_webp.save(f"{index}.webp", ContentFile(outcome.webp), save=False)
    image.thumbnail.save(f"{index}-thumb.jpg", ContentFile(outcome.thumbnail), save=False)
    try:
        with transaction.atomic():
            _record_delivery(generation, image, index, outcome.engine)
    except (IntegrityError, *DATABASE_ERRORS) as error:
        # A duplicate delivery of the task rendered this index first (keep theirs), or the
        # database went away (the task's retry renders this index again).
        for field in (image.image, image.image_webp, image.thumbnail):
            field.delete(save=False)
        if not isinstance(error, IntegrityError):
            raise


def _record_delivery(generation, image, index: int, engine_name: str) -> None:
    """Price the image by how many were delivered before it, counted under the job's row
    lock: two runs of one job (a slow one the reconciler re-queued) would otherwise both
    count the other's uncommitted image as missing and both charge the first-image price."""
    list(HeadshotGeneration.objects.select_for_update().filter(pk=generation.pk).values_list("pk"))
    delivered_before = GeneratedImage.objects.filter(generation_id=generation.pk).count()
    cost = headshot_image_cost(
        base_cost=generation.metadata.get("base_cost", generation.style.base_cost),
        is_premium=generation.metadata.get("is_premium", generation.style.is_premium),
        quality=generation.quality,
        delivered_index=delivered_before,
    )
    image.credits = cost
    image.save()
    delivered = delivered_before + 1
    credits_services.credits_capture(
        hold_key=generation.hold_key,
        amount=cost,
        key=f"{generation.hold_key}:capture:{index}",
        memo=f"Headshots: {generation.style.name}, image {delivered} of {generation.batch_size}",
    )
    HeadshotGeneration.objects.filter(pk=generation.pk).update(
        progress=min(100, round(100 * delivered / generation.batch_size)),
        credits_used=F("credits_used") + cost,
        engine=engine_name,
        updated_at=timezone.now(),
    )


def _finish(
    generation: HeadshotGeneration, failure: Exception | None, *, elapsed_ms: int
) -> HeadshotGeneration:
    with transaction.atomic():
        current = (
            HeadshotGeneration.objects.select_for_update()
            .filter(pk=generation.pk, attempt=generation.attempt, status__in=RUNNING)
            .first()
        )
        if current is None:
            # A late run: the reconciler already settled this attempt, or a retry started a
            # new one whose hold is not ours to release.
            return HeadshotGeneration.objects.get(pk=generation.pk)
        generation = current
        delivered = generation.images.count()
        credits_services.credits_release(
            hold_key=generation.hold_key, key=f"{generation.hold_key}:release"
        )
        generation.finished_at = timezone.now()
        generation.processing_ms = elapsed_ms
        if delivered:
            generation.status = Status.COMPLETED
            generation.progress = 100
            if delivered < generation.batch_size:
                generation.error_message = (
                    f"{delivered} of {generation.batch_size} images were delivered; "
                    "you were charged only for those."
                )
        else:
            generation.status = Status.FAILED
            generation.error_code, reason = _describe_failure(failure)
            generation.error_message = f"{reason} Your credits were returned."
        generation.save(
            update_fields=[
                "status",
                "progress",
                "finished_at",
                "processing_ms",
                "error_code",
                "error_message",
                "updated_at",
            ]
        )
        Event.objects.create(
            name=Event.Name.COMPLETED if delivered else Event.Name.FAILED,
            user_id=generation.user_id,
            generation=generation,
            data={"ms": elapsed_ms, "delivered": delivered},
        )
        transaction.on_commit(lambda: _notify_finished(generation.pk))
    return generation


def _describe_failure(failure: Exception | None) -> tuple[str, str]:
    return job_failure_reason(
        failure,
        explained=(ApplicationError, engine.EngineError),
        fallback="Something went wrong while making your headshots.",
    )


def _notify_finished(generation_id: int) -> None:
    generation = HeadshotGeneration.objects.select_related("user", "style").get(pk=generation_id)
    if generation.status == Status.COMPLETED:
        subject = f"Your {generation.style.name} headshots are ready"
        body = f"{generation.images.count()} new headshot(s) are waiting in your gallery."
    else:
        subject = "Your headshots could not be made"
        body = (
            f"{generation.error_message}\nYou can retry from your gallery without uploading again."
        )
    link = site_url("headshots:detail", generation.pk)
    send_mail(
        subject=subject,
        message=f"{body}\n\n{link}",
        from_email=None,
        recipient_list=[generation.user.email],
    )


# --- after the fact --------------------------------------------------------------------------


def _retry_options_check(generation: HeadshotGeneration, options: Mapping[str, object]) -> None:
    """A retry runs the original's options again. Options sent with it must be the same:
    silently running something other than what the client asked for would be worse."""
    original = {
        "team": generation.team_id,
        "style": generation.style.slug,
        "aspect_ratio": generation.aspect_ratio,
        "quality": generation.quality,
        "batch_size": generation.batch_size,
    }
    for name, value in options.items():
        if name in original and value is not None and value != original[name]:
            raise ApplicationError(
                f"A retry runs the original's options again ({name} {original[name]}), "
                f"not {name} {value}. To change them, upload the photo again.",
                code="retry_options_differ",
            )


@transaction.atomic
def headshot_retry(
    *, user, generation_id: int, options: Mapping[str, object] | None = None
) -> HeadshotGeneration:
    """Run a failed generation again from the stored upload: a new hold, a new run.
    `options` are what the client sent beside the retry (style, quality, ...)."""
    generation = headshot_get(user=user, generation_id=generation_id, for_update=True)
    if generation.status != Status.FAILED:
        raise Conflict("Only a failed generation can be retried.", code="not_failed")
    _retry_options_check(generation, options or {})
    if not generation.source or generation.source_deleted_at:
        raise ApplicationError(
            "The original photo was deleted after the retention window. Upload it again.",
            code="photo_expired",
            status=410,
        )
    if generation.attempt >= site_settings().max_runs:
        raise Conflict(
            "This generation was retried too many times. Start a new one.", code="too_many_retries"
        )
    generation.attempt += 1
    generation.retry_count += 1
    generation.status = Status.QUEUED
    generation.progress = 0
    generation.error_code = ""
    generation.error_message = ""
    generation.finished_at = None
    generation.save(
        update_fields=[
            "attempt",
            "retry_count",
            "status",
            "progress",
            "error_code",
            "error_message",
            "finished_at",
            "updated_at",
        ]
    )
    credits_services.credits_hold(
        team_id=generation.team_id,
        user_id=user.id,
        amount=generation.credits_held,
        key=generation.hold_key,
        category=credits_services.Category.HEADSHOT,
        reference=f"headshot:{generation.pk}",
        memo="Headshots: retry",
    )
    transaction.on_commit(lambda: _enqueue(generation.pk))
    return generation


def headshot_reconcile(*, now=None) -> dict[str, int]:
    """Jobs silent past the timeout: re-queue (twice at most), then fail and release."""
    return jobs_reconcile(
        model=HeadshotGeneration,
        running=RUNNING,
        queued=Status.QUEUED,
        timeout=timedelta(seconds=settings.HEADSHOT_JOB_TIMEOUT_SECONDS),
        enqueue=_enqueue,
        fail=lambda generation: _finish(generation, _STUCK, elapsed_ms=0),
        now=now,
    )


def headshot_cleanup_originals(*, now=None) -> int:
    """Delete uploads whose job ended longer ago than the retention window."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=site_settings().retention_minutes)
    expired = HeadshotGeneration.objects.filter(
        finished_at__lt=cutoff, source_deleted_at__isnull=True
    ).exclude(source="")
    count = 0
    for generation in expired.iterator():
        generation.source.delete(save=False)
        HeadshotGeneration.objects.filter(pk=generation.pk).update(source="", source_deleted_at=now)
        count += 1
    return count


def headshot_set_favorite(*, user, generation_id: int, favorite: bool) -> HeadshotGeneration:
    generation = headshot_get(user=user, generation_id=generation_id)
    generation.is_favorite = favorite
    generation.save(update_fields=["is_favorite", "updated_at"])
    return generation


def headshot_delete(*, user, generation_id: int) -> None:
    """Soft delete; a running job must finish first so its credits settle."""
    generation = headshot_get(user=user, generation_id=generation_id)
    if generation.status in RUNNING:
        raise Conflict(
            "Wait for this generation to finish before deleting it.", code="still_running"
        )
    generation.deleted_at = timezone.now()
    generation.save(update_fields=["deleted_at", "updated_at"])


def headshot_bulk(*, user, ids: list[int], action: str) -> int:
    """Favourite, unfavourite or delete many of one's own generations at once."""
    from headshots.selectors import headshots_visible

    qs = headshots_visible(user=user).filter(pk__in=ids)
    if action == "favorite":
        return qs.update(is_favorite=True, updated_at=timezone.now())
    if action == "unfavorite":
        return qs.update(is_favorite=False, updated_at=timezone.now())
    if action == "delete":
        return qs.exclude(status__in=RUNNING).update(
            deleted_at=timezone.now(), updated_at=timezone.now()
        )
    raise ApplicationError("Action must be favorite, unfavorite or delete.", code="invalid_action")


def event_record(
    *, user, name: str, generation_id: int | None = None, data: dict | None = None
) -> None:
    if name not in Event.Name.values:
        raise NotFound("No such event.")
    Event.objects.create(name=name, user=user, generation_id=generation_id, data=data or {})


def image_set_favorite(*, user, image_id: int, favorite: bool) -> GeneratedImage:
    from headshots.selectors import image_get

    image = image_get(user=user, image_id=image_id)
    image.is_favorite = favorite
    image.save(update_fields=["is_favorite"])
    return image


def image_share_link(*, user, image: GeneratedImage) -> str:
    """An expiring public link to one image (the owner chose to share it)."""
    from django.urls import reverse

    from headshots.files import share_token

    Event.objects.create(
        name=Event.Name.SHARED,
        user=user,
        generation_id=image.generation_id,
        data={"image": image.pk},
    )
    return reverse("headshots:shared", args=[share_token(image.pk)])


_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


@transaction.atomic
def team_style_policy_set(
    *,
    actor,
    team_id: int,
    style_slugs: list[str],
    backdrop: str = "",
    backdrop_color: str = "",
    backdrop_image=None,
):
    """A team admin's brand rules: allowed styles (empty: all) and one backdrop for everyone."""
    from headshots.models import Backdrop, TeamStylePolicy

    team = teams_selectors.team_get_for_admin(user=actor, team_id=team_id)
    if backdrop and backdrop not in Backdrop.values:
        raise ApplicationError("Unknown backdrop.", code="invalid_backdrop")
    if backdrop == Backdrop.BRAND and not _HEX.match(backdrop_color or ""):
        raise ApplicationError(
            "A brand backdrop needs a colour like #1c7ed6.", code="invalid_color"
        )
    styles = list(HeadshotStyle.objects.filter(slug__in=style_slugs, is_active=True))
    if len(styles) != len(set(style_slugs)):
        raise ApplicationError("Some of those styles do not exist.", code="invalid_style")
    policy, _ = TeamStylePolicy.objects.get_or_create(team=team)
    if backdrop == Backdrop.CUSTOM:
        if backdrop_image is None and not policy.backdrop_image:
            raise ApplicationError(
                "Upload the backdrop image to use.", code="backdrop_image_required"
            )
        if backdrop_image is not None:
            data = _read_upload(backdrop_image)
            policy.backdrop_image.save(
                "backdrop.jpg", ContentFile(engine.normalise(data)), save=False
            )
    policy.backdrop = backdrop
    policy.backdrop_color = backdrop_color if backdrop == Backdrop.BRAND else ""
    policy.save()
    policy.allowed_styles.set(styles)
    return policy


# --- staff -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeadshotRefund:
    generation: HeadshotGeneration
    amount: int
    image_ids: list[int]
    ledger_keys: list[str]


@transaction.atomic
def headshot_refund(
    *, generation_id: int, actor_id: int, reason: str, image_ids: list[int] | None = None
) -> HeadshotRefund:
    """Give a member back what a generation cost them: all of it, or the listed images' share.

    Staff only: call through `staff.services.staff_headshot_refund`, which checks the actor
    and writes the audit log. The whole refund is keyed by the generation and an image
    refund by the image, so refunding the same thing twice finds its key taken (409) and
    pays nothing; the row lock on the generation serialises two staff clicking at once.
    A failed generation spent nothing (its hold was released): there is nothing to refund.
    """
    if not (reason or "").strip():
        raise ApplicationError("A refund needs a reason.", code="reason_required")
    try:
        generation = HeadshotGeneration.objects.select_for_update().get(pk=int(generation_id))
    except (HeadshotGeneration.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such headshot.") from None
    if generation.status in RUNNING:
        raise Conflict("This generation is still running.", code="still_running")
    if generation.status == Status.FAILED:
        raise Conflict(
            "This generation failed and its credits were already returned: nothing to refund.",
            code="nothing_to_refund",
        )
    images = {image.pk: image for image in generation.images.all()}
    open_images = [image for image in images.values() if image.refunded_at is None]
    if image_ids is None:
        if generation.status == Status.REFUNDED or not open_images:
            raise Conflict("This generation was already refunded.", code="already_refunded")
        chosen = open_images
    else:
        wanted = list(dict.fromkeys(image_ids))
        if not wanted:
            raise ApplicationError("Choose at least one image.", code="images_required")
        unknown = [pk for pk in wanted if pk not in images]
        if unknown:
            raise ApplicationError(
                f"Not images of this generation: {', '.join(map(str, unknown))}.",
                code="invalid_images",
            )
        chosen = [images[pk] for pk in wanted]
        done = [image.pk for image in chosen if image.refunded_at is not None]
        if done:
            raise Conflict(
                f"Already refunded: image {', '.join(map(str, done))}.",
                code="already_refunded",
            )
    amount = sum(image.credits for image in chosen)
    if amount <= 0:
        raise Conflict("These images cost nothing: nothing to refund.", code="nothing_to_refund")
    if generation.credits_refunded + amount > generation.credits_used:
        raise Conflict(
            f"Only {generation.credits_used - generation.credits_refunded} credits of this "
            "generation are left to refund.",
            code="refund_exceeds_spend",
        )
    if image_ids is None:
        legs = [(f"headshot:{generation.pk}:refund", amount)]
    else:
        legs = [
            (f"headshot:{generation.pk}:refund:image:{image.pk}", image.credits)
            for image in chosen
            if image.credits > 0
        ]
    # A member who has left the team: the refund goes to the team pool.
    left = not teams_selectors.is_team_member(
        user_id=generation.user_id, team_id=generation.team_id
    )
    for key, credits in legs:
        movement = credits_services.credits_refund(
            team_id=generation.team_id,
            user_id=generation.user_id,
            amount=credits,
            key=key,
            actor_id=actor_id,
            reason=reason.strip(),
            reference=f"headshot:{generation.pk}",
            to_pool=left,
        )
        if not movement.created:
            raise Conflict("This was already refunded.", code="already_refunded")
    now = timezone.now()
    GeneratedImage.objects.filter(pk__in=[image.pk for image in chosen]).update(refunded_at=now)
    generation.credits_refunded += amount
    if len(chosen) == len(open_images):
        generation.status = Status.REFUNDED
    generation.save(update_fields=["credits_refunded", "status", "updated_at"])
    return HeadshotRefund(
        generation=generation,
        amount=amount,
        image_ids=[image.pk for image in chosen],
        ledger_keys=[key for key, _ in legs],
    )


def style_render_sample(*, style_id: int) -> HeadshotStyle:
    """Render a style on skimage's astronaut and keep it as the style's sample picture.

    Always the studio engine (offline, free, deterministic): a preview must not spend
    provider money or change when a preset does. scikit-image supplies the test photo.
    """
    import io

    import generation as generation_api

    try:
        from skimage import data as skimage_data
    except ImportError as error:
        raise ApplicationError(
            "Rendering samples needs scikit-image (the astronaut test photo).",
            code="samples_unavailable",
        ) from error
    from PIL import Image

    style = HeadshotStyle.objects.get(pk=style_id)
    photo = io.BytesIO()
    Image.fromarray(skimage_data.astronaut()).save(photo, format="JPEG", quality=92)
    [rendered] = generation_api.get_engine("studio").render(
        generation_api.RenderRequest(
            source=engine.normalise(photo.getvalue()),
            style=engine.style_spec(style),
            aspect_ratio=AspectRatio.PORTRAIT,
            quality=Quality.STANDARD,
            seed=7,
        )
    )
    old = style.sample.name if style.sample else None
    style.sample.save(
        f"{style.slug}-{uuid.uuid4().hex[:8]}.jpg", ContentFile(rendered.data), save=False
    )
    style.save(update_fields=["sample", "updated_at"])
    if old:
        style.sample.storage.delete(old)
    return style
