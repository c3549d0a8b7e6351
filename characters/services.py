"""Writes of the character studio: projects, characters, and the life of an image version.

A version's credits follow the headshot ledger: submit holds the price under
`version.hold_key`; delivery captures it (keyed, so a re-run never charges twice) and
releases whatever is left; a failure releases everything. A run that dies is picked up
by `version_reconcile`, which re-queues it or fails it and releases its hold.

Activation is serialised by a row lock on the character; the partial unique index
`characters_one_active_version` is the database's own guarantee on top of it.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from characters import catalog, engine, fetch, pricing, selectors
from characters.models import (
    Character,
    CharacterImageVersion,
    CharacterView,
    Mode,
    Project,
    Status,
)
from common.api import storable_key
from common.errors import ApplicationError, Conflict, Forbidden, NotFound
from common.jobs import DATABASE_ERRORS, job_failure_reason, jobs_reconcile
from common.text import clean_text
from credits import services as credits_services
from teams import selectors as teams_selectors

logger = logging.getLogger(__name__)

RUNNING = selectors.RUNNING
_STUCK = ApplicationError("The job stopped responding.", code="stuck")
MAX_NAME = 255
MAX_DESCRIPTION = 2000


# --- projects and characters -----------------------------------------------------------------


def _clean_name(name: object, *, what: str, limit: int) -> str:
    return clean_text(
        name, label=f"{what} name", limit=limit, required_message=f"Give the {what} a name."
    )


def _clean_description(description: object) -> str:
    return clean_text(description, label="description", limit=MAX_DESCRIPTION, multiline=True)


@transaction.atomic
def project_create(*, actor, team_id: int, name: str, description: str = "") -> Project:
    """A film project in one of the actor's teams (any member may create one)."""
    team = teams_selectors.team_get_for_member(user=actor, team_id=team_id)
    project = Project(
        team=team,
        created_by=actor,
        name=_clean_name(name, what="project", limit=200),
        description=_clean_description(description),
    )
    project.full_clean()
    project.save()
    return project


@transaction.atomic
def project_update(
    *, actor, project_id: int, name: str | None = None, description: str | None = None
) -> Project:
    """Rename or re-describe: every member of the team works on the project."""
    project = selectors.project_get(user=actor, project_id=project_id, for_update=True)
    if name is not None:
        project.name = _clean_name(name, what="project", limit=200)
    if description is not None:
        project.description = _clean_description(description)
    project.save(update_fields=["name", "description", "updated_at"])
    return project


def _files_of(versions) -> list:
    fields = []
    for version in versions:
        fields += [
            version.image,
            version.thumbnail,
            version.character_reference,
            version.background_reference,
        ]
    return [field for field in fields if field]


def _delete_files_after_commit(fields) -> None:
    names = [(field.storage, field.name) for field in fields if field]

    def delete() -> None:
        for storage, name in names:
            try:
                storage.delete(name)
            except OSError:
                logger.warning("could not delete %s", name)

    transaction.on_commit(delete)


@transaction.atomic
def project_delete(*, actor, project_id: int) -> None:
    """Its creator or a team admin; not while one of its versions is still running."""
    project = selectors.project_get(user=actor, project_id=project_id, for_update=True)
    if not selectors.can_delete(
        user=actor, owner_id=project.created_by_id, team_id=project.team_id
    ):
        raise Forbidden("Only the project's creator or a team admin can delete it.")
    versions = list(CharacterImageVersion.objects.filter(character__project=project))
    if any(version.status in RUNNING for version in versions):
        raise Conflict(
            "A version in this project is still being made; delete it when it is done.",
            code="still_running",
        )
    _delete_files_after_commit(_files_of(versions))
    project.delete()


@transaction.atomic
def character_create(*, actor, project_id: int, name: str, description: str = "") -> Character:
    project = selectors.project_get(user=actor, project_id=project_id, for_update=True)
    character = Character(
        project=project,
        created_by=actor,
        name=_clean_name(name, what="character", limit=120),
        description=_clean_description(description),
    )
    character.full_clean()
    character.save()
    project.save(update_fields=["updated_at"])
    return character


@transaction.atomic
def character_update(
    *, actor, character_id: int, name: str | None = None, description: str | None = None
) -> Character:
    character = selectors.character_get(user=actor, character_id=character_id, for_update=True)
    if name is not None:
        character.name = _clean_name(name, what="character", limit=120)
    if description is not None:
        character.description = _clean_description(description)
    character.save(update_fields=["name", "description", "updated_at"])
    return character


@transaction.atomic
def character_delete(*, actor, character_id: int) -> None:
    character = selectors.character_get(user=actor, character_id=character_id, for_update=True)
    if not selectors.can_delete(
        user=actor, owner_id=character.created_by_id, team_id=character.project.team_id
    ):
        raise Forbidden("Only the character's creator or a team admin can delete it.")
    versions = list(character.versions.all())
    if any(version.status in RUNNING for version in versions):
        raise Conflict(
            "A version of this character is still being made; delete it when it is done.",
            code="still_running",
        )
    _delete_files_after_commit(_files_of(versions))
    character.delete()


# --- pricing and input ------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    template: str
    art_style: str
    aspect_ratio: str
    with_background: bool
    credits: int

    @property
    def template_name(self) -> str:
        return catalog.template_info(self.template).name


def character_estimate(
    *, template: str, art_style: str, aspect_ratio: str, with_background: bool = False
) -> Estimate:
    """Validate the modal's choices and price them with the one pricing rule."""
    if template not in catalog.TEMPLATE_GROUPS:
        raise ApplicationError("Pick one of the templates.", code="invalid_template")
    if art_style not in catalog.ART_STYLE_ORDER:
        raise ApplicationError("Pick one of the art styles.", code="invalid_art_style")
    if aspect_ratio not in catalog.SIZES:
        raise ApplicationError(
            f"The size must be one of: {', '.join(catalog.SIZES)}.", code="invalid_size"
        )
    return Estimate(
        template=template,
        art_style=art_style,
        aspect_ratio=aspect_ratio,
        with_background=with_background,
        credits=pricing.character_price(template=template, with_background=with_background),
    )


def _read_upload(upload, *, what: str) -> bytes:
    limit = settings.CHARACTERS_MAX_REFERENCE_BYTES
    too_large = ApplicationError(
        f"The {what} is larger than {limit // (1024 * 1024)} MB.",
        code="reference_too_large",
        status=413,
    )
    if upload.size is not None and upload.size > limit:
        raise too_large
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise too_large
    return data


def _reference_bytes(upload, url: str, *, what: str) -> bytes | None:
    """An uploaded file, else the URL fetched safely, else None."""
    if upload is not None:
        return _read_upload(upload, what=what)
    if url:
        return fetch.fetch_image(
            url,
            max_bytes=settings.CHARACTERS_MAX_REFERENCE_BYTES,
            timeout=settings.CHARACTERS_URL_FETCH_SECONDS,
            max_redirects=settings.CHARACTERS_URL_MAX_REDIRECTS,
        ).data
    return None


def _fingerprint(*parts) -> str:
    return hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()


def _sha(data: bytes | None) -> str:
    return hashlib.sha256(data).hexdigest() if data else "-"


def _default_name(character: Character, estimate: Estimate) -> str:
    done = character.versions.filter(status=Status.COMPLETED).count()
    return (f"{catalog.art_style_name(estimate.art_style)} {estimate.template_name} v{done + 1}")[
        :MAX_NAME
    ]


# --- generate ---------------------------------------------------------------------------------


def version_generate(
    *,
    actor,
    character_id: int,
    template: str,
    art_style: str,
    aspect_ratio: str,
    version_name: str = "",
    additional_description: str = "",
    character_reference=None,
    character_reference_url: str = "",
    background_reference=None,
    background_reference_url: str = "",
    character_reference_bytes: bytes | None = None,
    background_reference_bytes: bytes | None = None,
    regenerated_from: CharacterImageVersion | None = None,
    idempotency_key: str | None = None,
) -> tuple[CharacterImageVersion, bool]:
    """Validate, fetch the references, hold the credits, queue the job: (version, created).

    With a character reference it is image-to-image, without one text-to-image (which
    the local studio engine cannot do: a 400 before any charge). Nothing is charged or
    stored when a check fails. The same idempotency key and request returns the first
    version; the key with another request is a 409.
    """
    character = selectors.character_get(user=actor, character_id=character_id)
    team = character.project.team
    description = clean_text(
        additional_description,
        label="additional description",
        limit=MAX_DESCRIPTION,
        multiline=True,
    )
    reference_data = (
        character_reference_bytes
        if character_reference_bytes is not None
        else _reference_bytes(
            character_reference, character_reference_url, what="character reference"
        )
    )
    background_data = (
        background_reference_bytes
        if background_reference_bytes is not None
        else _reference_bytes(
            background_reference, background_reference_url, what="background reference"
        )
    )
    estimate = character_estimate(
        template=template,
        art_style=art_style,
        aspect_ratio=aspect_ratio,
        with_background=background_data is not None,
    )
    given_name = clean_text(version_name, label="version name", limit=MAX_NAME)
    # The request as sent, not the default name: that one counts finished versions, so a
    # retry after the first job finished would look like another request.
    fingerprint = _fingerprint(
        character.pk,
        template,
        art_style,
        aspect_ratio,
        given_name,
        description,
        _sha(reference_data),
        _sha(background_data),
        regenerated_from.pk if regenerated_from else "-",
    )
    idempotency_key = storable_key(idempotency_key)
    if idempotency_key:
        existing = CharacterImageVersion.objects.filter(
            created_by=actor, idempotency_key=idempotency_key
        ).first()
        if existing is not None:
            return _replay(existing, fingerprint), False
    name = given_name or _default_name(character, estimate)

    local = engine.is_local()
    if reference_data is None and local:
        raise ApplicationError(
            "The studio engine makes character images from a reference picture: upload "
            "one or paste its link. Making a character from a description alone needs a "
            "generative provider, which this studio has not switched on.",
            code="reference_required",
        )
    reference = (
        engine.read_reference(reference_data, what="character reference", need_face=local)
        if reference_data is not None
        else None
    )
    background = engine.read_background(background_data) if background_data is not None else None

    version = CharacterImageVersion(
        character=character,
        created_by=actor,
        team=team,
        regenerated_from=regenerated_from,
        version_name=name,
        art_style=art_style,
        template_type=template,
        aspect_ratio=aspect_ratio,
        mode=Mode.IMAGE_TO_IMAGE if reference is not None else Mode.TEXT_TO_IMAGE,
        character_reference_url=character_reference_url if character_reference is None else "",
        background_reference_url=background_reference_url if background_reference is None else "",
        additional_description=description,
        seed=random.SystemRandom().randrange(1, 2**31),
        credit_cost=estimate.credits,
        idempotency_key=idempotency_key or None,
        request_fingerprint=fingerprint,
        metadata={"reference_face": bool(reference and reference.has_face)},
    )
    if regenerated_from is not None:
        version.character_reference_url = regenerated_from.character_reference_url
        version.background_reference_url = regenerated_from.background_reference_url
    if reference is not None:
        version.character_reference.save("reference.jpg", ContentFile(reference.jpeg), save=False)
    if background is not None:
        version.background_reference.save("background.jpg", ContentFile(background), save=False)
    stored = [version.character_reference, version.background_reference]
    try:
        with transaction.atomic():
            version.full_clean(
                exclude=["character_reference_url", "background_reference_url"],
                validate_constraints=False,  # the database decides races (IntegrityError)
            )
            version.save()
            credits_services.credits_hold(
                team_id=team.id,
                user_id=actor.id,
                amount=estimate.credits,
                key=version.hold_key,
                category=credits_services.Category.CHARACTER,
                reference=f"character-version:{version.pk}",
                memo=f"Character studio: {character.name}, {estimate.template_name}",
            )
            transaction.on_commit(lambda: _enqueue(version.pk))
    except IntegrityError:
        _delete_now(stored)
        existing = CharacterImageVersion.objects.filter(
            created_by=actor, idempotency_key=idempotency_key
        ).first()
        if existing is None:
            raise
        return _replay(existing, fingerprint), False
    except Exception:
        _delete_now(stored)
        raise
    return version, True


def _delete_now(fields) -> None:
    for field in fields:
        if field:
            field.delete(save=False)


def _replay(existing: CharacterImageVersion, fingerprint: str) -> CharacterImageVersion:
    if existing.request_fingerprint != fingerprint:
        raise Conflict(
            "This Idempotency-Key was already used for a different request.",
            code="idempotency_key_reused",
        )
    return existing


def version_regenerate(
    *,
    actor,
    character_id: int,
    version_id: int,
    version_name: str = "",
    idempotency_key: str | None = None,
) -> tuple[CharacterImageVersion, bool]:
    """A new version from a finished one's saved parameters and references (a new seed)."""
    source = selectors.version_get(user=actor, character_id=character_id, version_id=version_id)
    if source.status in RUNNING:
        raise Conflict("That version is still being made.", code="still_running")
    return version_generate(
        actor=actor,
        character_id=character_id,
        template=source.template_type,
        art_style=source.art_style,
        aspect_ratio=source.aspect_ratio,
        version_name=version_name or _regenerated_name(source),
        additional_description=source.additional_description,
        character_reference_bytes=_read_field(source.character_reference),
        background_reference_bytes=_read_field(source.background_reference),
        regenerated_from=source,
        idempotency_key=idempotency_key,
    )


def _regenerated_name(source: CharacterImageVersion) -> str:
    return f"{source.version_name} (regenerated)"[:MAX_NAME]


def _read_field(field) -> bytes | None:
    if not field:
        return None
    try:
        with field.open("rb") as handle:
            return handle.read()
    except (FileNotFoundError, OSError, ValueError):
        raise ApplicationError(
            "The saved reference of that version is gone; generate a new version with "
            "the reference attached.",
            code="reference_missing",
            status=410,
        ) from None


def _enqueue(version_id: int) -> None:
    from characters.tasks import version_run_task

    try:
        version_run_task.apply_async(args=[version_id], queue=settings.CHARACTERS_TASK_QUEUE)
    except Exception:
        logger.exception(
            "could not enqueue character version %s; the reconciler will pick it up", version_id
        )


# --- the job ----------------------------------------------------------------------------------


def version_run(*, version_id: int) -> CharacterImageVersion | None:
    """Render a queued version, check it against the reference, deliver or fail. Idempotent."""
    with transaction.atomic():
        version = (
            CharacterImageVersion.objects.select_for_update()
            .filter(pk=version_id, status__in=RUNNING)
            .first()
        )
        if version is None:
            return None  # finished, or delivered twice: nothing to do
        version.status = Status.PROCESSING
        version.progress = max(version.progress, 5)
        version.started_at = version.started_at or timezone.now()
        version.save(update_fields=["status", "progress", "started_at", "updated_at"])

    started = time.monotonic()
    try:
        outcome = _render(version)
    except DATABASE_ERRORS:
        raise  # the database went away: the task runs this again, nothing is settled
    except Exception as error:
        logger.warning("character version %s failed: %s", version.pk, error)
        return _fail(version, error, elapsed_ms=int((time.monotonic() - started) * 1000))
    return _deliver(version, outcome, elapsed_ms=int((time.monotonic() - started) * 1000))


def _render(version: CharacterImageVersion) -> engine.Outcome:
    reference = None
    if version.character_reference:
        data = _stored(version.character_reference)
        reference = engine.Reference(
            jpeg=data, has_face=bool(version.metadata.get("reference_face"))
        )
    background = _stored(version.background_reference) if version.background_reference else None
    character = Character.objects.only("name").get(pk=version.character_id)

    def progressed(done: int, total: int) -> None:
        CharacterImageVersion.objects.filter(pk=version.pk, status=Status.PROCESSING).update(
            progress=min(95, 5 + round(90 * done / total)), updated_at=timezone.now()
        )

    return engine.render(
        reference=reference,
        background=background,
        template=version.template_type,
        art_style=version.art_style,
        aspect_ratio=version.aspect_ratio,
        seed=version.seed,
        description=version.additional_description,
        character_name=character.name,
        thresholds=selectors.consistency_thresholds(),
        on_attempt=progressed,
    )


def _stored(field) -> bytes:
    try:
        with field.open("rb") as handle:
            return handle.read()
    except (FileNotFoundError, ValueError, OSError) as error:
        raise ApplicationError(
            "A reference could not be read back from storage.", code="reference_missing"
        ) from error


def _deliver(
    version: CharacterImageVersion, outcome: engine.Outcome, *, elapsed_ms: int
) -> CharacterImageVersion:
    """Store the image, number and activate the version, save the character, capture."""
    version.image.save("image.jpg", ContentFile(outcome.jpeg), save=False)
    version.thumbnail.save("thumbnail.jpg", ContentFile(outcome.thumbnail), save=False)
    files = [version.image, version.thumbnail]
    try:
        with transaction.atomic():
            character = Character.objects.select_for_update().get(pk=version.character_id)
            locked = CharacterImageVersion.objects.select_for_update().get(pk=version.pk)
            if locked.status != Status.PROCESSING:
                _delete_files_after_commit(files)  # the reconciler failed it meanwhile
                return locked
            _record_delivery(character, locked, version, outcome, elapsed_ms=elapsed_ms)
    except Exception as error:
        _delete_now(files)
        if isinstance(error, DATABASE_ERRORS):
            raise  # the task runs the version again on a fresh connection
        logger.exception("character version %s could not be delivered", version.pk)
        return _fail(version, error, elapsed_ms=elapsed_ms)
    return locked


def _record_delivery(
    character: Character,
    locked: CharacterImageVersion,
    rendered: CharacterImageVersion,
    outcome: engine.Outcome,
    *,
    elapsed_ms: int,
) -> None:
    """Call inside the character's and the version's row locks."""
    top = CharacterImageVersion.objects.filter(character=character).aggregate(
        top=Max("version_number")
    )["top"]
    locked.image.name = rendered.image.name
    locked.thumbnail.name = rendered.thumbnail.name
    locked.version_number = (top or 0) + 1
    locked.status = Status.COMPLETED
    locked.progress = 100
    locked.width, locked.height = outcome.width, outcome.height
    locked.seed = outcome.seed
    locked.engine = outcome.engine
    locked.model_used = outcome.model
    locked.prompt_used = outcome.prompt
    locked.panels = outcome.panels
    locked.identity_score = outcome.identity
    locked.ssim_score = outcome.ssim
    locked.attempts = outcome.attempts
    locked.credits_used = locked.credit_cost
    locked.finished_at = timezone.now()
    locked.metadata = {
        **locked.metadata,
        **outcome.metadata,
        "rejected": outcome.rejected,
        "ms": elapsed_ms,
    }
    locked.save()
    credits_services.credits_capture(
        hold_key=locked.hold_key,
        amount=locked.credit_cost,
        key=f"{locked.hold_key}:capture",
    )  # its memo is the hold's: the character and the template
    credits_services.credits_release(hold_key=locked.hold_key, key=f"{locked.hold_key}:release")
    _activate(character, locked)
    if locked.created_by_id:
        _remember_view(user_id=locked.created_by_id, character=character, version=locked)


def _fail(
    version: CharacterImageVersion, failure: Exception, *, elapsed_ms: int
) -> CharacterImageVersion:
    with transaction.atomic():
        version = CharacterImageVersion.objects.select_for_update().get(pk=version.pk)
        if version.is_finished:
            return version
        credits_services.credits_release(
            hold_key=version.hold_key, key=f"{version.hold_key}:release"
        )
        version.status = Status.FAILED
        version.error_code, reason = _describe_failure(failure)
        version.error_message = f"{reason} Your credits were returned."
        version.finished_at = timezone.now()
        rejected = getattr(failure, "rejected", None)
        if rejected:
            version.attempts = len(rejected)
            version.identity_score = rejected[-1].get("identity")
            version.ssim_score = rejected[-1].get("ssim")
        version.metadata = {**version.metadata, "rejected": rejected or [], "ms": elapsed_ms}
        version.save(
            update_fields=[
                "status",
                "error_code",
                "error_message",
                "finished_at",
                "attempts",
                "identity_score",
                "ssim_score",
                "metadata",
                "updated_at",
            ]
        )
    return version


def _describe_failure(failure: Exception) -> tuple[str, str]:
    return job_failure_reason(
        failure,
        explained=(ApplicationError, engine.EngineError),
        fallback="Something went wrong while making this version.",
    )


def version_reconcile(*, now=None) -> dict[str, int]:
    """Versions silent past the timeout: re-queue (twice at most), then fail and release."""
    return jobs_reconcile(
        model=CharacterImageVersion,
        running=RUNNING,
        queued=Status.QUEUED,
        timeout=timedelta(seconds=settings.CHARACTERS_JOB_TIMEOUT_SECONDS),
        enqueue=_enqueue,
        fail=lambda version: _fail(version, _STUCK, elapsed_ms=0),
        now=now,
    )


# --- versions ---------------------------------------------------------------------------------


def _activate(character: Character, version: CharacterImageVersion | None) -> None:
    """Make `version` the active one and save its image onto the character.

    Call inside a transaction holding the character's row lock.
    """
    CharacterImageVersion.objects.filter(character=character, is_active=True).exclude(
        pk=version.pk if version else None
    ).update(is_active=False, updated_at=timezone.now())
    if version is not None and not version.is_active:
        CharacterImageVersion.objects.filter(pk=version.pk).update(
            is_active=True, updated_at=timezone.now()
        )
        version.is_active = True
    character.image = version.image.name if version else ""
    character.thumbnail = version.thumbnail.name if version else ""
    character.poses = (
        [{"label": panel["label"], "box": panel["box"]} for panel in version.panels]
        if version
        else []
    )
    character.save(update_fields=["image", "thumbnail", "poses", "updated_at"])


def _locked(*, actor, character_id: int, version_id: int):
    character = selectors.character_get(user=actor, character_id=character_id, for_update=True)
    version = (
        CharacterImageVersion.objects.select_for_update()
        .filter(character=character, pk=version_id)
        .first()
    )
    if version is None:
        raise NotFound("No such version.")
    return character, version


@transaction.atomic
def version_activate(*, actor, character_id: int, version_id: int) -> CharacterImageVersion:
    """Any member of the team may choose the character's image; only a finished one."""
    character, version = _locked(actor=actor, character_id=character_id, version_id=version_id)
    if version.status != Status.COMPLETED:
        raise Conflict("Only a finished version can be made active.", code="not_completed")
    _activate(character, version)
    return version


@transaction.atomic
def version_rename(
    *, actor, character_id: int, version_id: int, version_name: str
) -> CharacterImageVersion:
    _character, version = _locked(actor=actor, character_id=character_id, version_id=version_id)
    version.version_name = _clean_name(version_name, what="version", limit=MAX_NAME)
    version.save(update_fields=["version_name", "updated_at"])
    return version


@transaction.atomic
def version_delete(*, actor, character_id: int, version_id: int) -> None:
    """The version's maker, the character's creator or a team admin. Deleting the active
    version activates the newest remaining one (or clears the character's image)."""
    character, version = _locked(actor=actor, character_id=character_id, version_id=version_id)
    if not (
        version.created_by_id == actor.id
        or selectors.can_delete(
            user=actor, owner_id=character.created_by_id, team_id=character.project.team_id
        )
    ):
        raise Forbidden(
            "Only whoever made this version, the character's creator or a team admin can delete it."
        )
    if version.status in RUNNING:
        raise Conflict(
            "This version is still being made; delete it when it is done.", code="still_running"
        )
    was_active = version.is_active
    _delete_files_after_commit(_files_of([version]))
    version.delete()
    if was_active:
        newest = (
            CharacterImageVersion.objects.filter(character=character, status=Status.COMPLETED)
            .order_by("-version_number", "-id")
            .first()
        )
        _activate(character, newest)


@transaction.atomic
def version_view(*, actor, character_id: int, version_id: int) -> CharacterImageVersion:
    """Remember the version this member is looking at, to show it again on reload."""
    version = selectors.version_get(user=actor, character_id=character_id, version_id=version_id)
    if version.status != Status.COMPLETED:
        raise Conflict("That version is not finished yet.", code="not_completed")
    _remember_view(user_id=actor.id, character=version.character, version=version)
    return version


def _remember_view(*, user_id: int, character: Character, version: CharacterImageVersion) -> None:
    CharacterView.objects.update_or_create(
        user_id=user_id, character=character, defaults={"version": version}
    )


def studio_team_for(*, actor, team_id: int | None):
    """The team a new project goes to: the one named, else the actor's first team."""
    if team_id:
        return teams_selectors.team_get_for_member(user=actor, team_id=team_id)
    membership = teams_selectors.memberships_for_user(user=actor).first()
    if membership is None:
        raise ApplicationError("Join or create a team first.", code="team_required")
    return membership.team
