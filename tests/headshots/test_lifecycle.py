"""Submit, run, retry, reconcile and clean up, through the services, with the real studio engine."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.utils import timezone

from common.errors import ApplicationError, Conflict, InsufficientCredits
from credits import selectors as credits_selectors
from credits import services as credits_services
from headshots import engine, services
from headshots.models import GeneratedImage, HeadshotGeneration, Status
from headshots.pricing import headshot_price
from tests.factories import team_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(db):
    return team_member(credits=40)


def balance(user):
    return credits_selectors.balance_member(team_id=user.team.id, user_id=user.id)


def submit(user, photo: bytes, *, batch_size=1, quality="standard", style="corporate", key=None):
    return services.headshot_submit(
        user=user,
        team_id=user.team.id,
        style_slug=style,
        aspect_ratio="1:1",
        quality=quality,
        batch_size=batch_size,
        photo=SimpleUploadedFile("me.jpg", photo, content_type="image/jpeg"),
        idempotency_key=key,
    )


def test_submit_holds_the_price_and_queues_after_commit(
    member, media, face_jpeg, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(services, "_enqueue", queued.append)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        generation, created = submit(member, face_jpeg, batch_size=2, quality="high")
    assert created
    assert generation.status == Status.QUEUED
    expected = headshot_price(
        base_cost=generation.style.base_cost, is_premium=False, quality="high", batch_size=2
    )
    assert generation.credits_held == expected
    assert balance(member) == 40 - expected
    assert queued == []  # nothing is sent to the broker before the commit
    for callback in callbacks:
        callback()
    assert queued == [generation.pk]


def test_run_delivers_every_image_and_charges_exactly(member, media, face_jpeg):
    generation, _ = submit(member, face_jpeg, batch_size=2)
    services.headshot_run(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == Status.COMPLETED
    assert generation.progress == 100
    assert generation.images.count() == 2
    assert generation.credits_used == generation.credits_held
    assert balance(member) == 40 - generation.credits_held
    assert credits_selectors.ledger_audit().clean
    image = generation.images.first()
    assert image.image.size > 0 and image.image_webp.size > 0 and image.thumbnail.size > 0
    assert image.engine


def test_the_members_history_names_each_delivered_image_and_its_price(member, media, face_jpeg):
    generation, _ = submit(member, face_jpeg, batch_size=2)
    assert credits_selectors.allocation_member(
        team_id=member.team.id, user_id=member.id
    ) == credits_selectors.Allocation(
        balance=40 - generation.credits_held, held=generation.credits_held
    )

    services.headshot_run(generation_id=generation.pk)

    prices = list(generation.images.order_by("id").values_list("credits", flat=True))
    lines = [
        (e.amount, e.transaction.memo)
        for e in credits_selectors.history_for_user(user_id=member.id, category="headshot")
    ]
    name = generation.style.name
    assert lines == [
        (-prices[1], f"Headshots: {name}, image 2 of 2"),
        (-prices[0], f"Headshots: {name}, image 1 of 2"),
    ]
    assert credits_selectors.allocation_member(team_id=member.team.id, user_id=member.id).held == 0


def test_the_stored_upload_has_no_exif(member, media, face_jpeg):
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    photo = Image.open(io.BytesIO(face_jpeg))
    out = io.BytesIO()
    photo.save(out, format="JPEG", exif=exif.tobytes())
    generation, _ = submit(member, out.getvalue())
    with generation.source.open("rb") as handle:
        stored = Image.open(handle)
        assert not stored.getexif()


def test_a_rendering_failure_releases_every_held_credit(member, media, face_jpeg, monkeypatch):
    generation, _ = submit(member, face_jpeg, batch_size=3)

    def broken(**kwargs):
        raise engine.EngineError("the engine fell over")

    monkeypatch.setattr(engine, "render_one", broken)
    services.headshot_run(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == Status.FAILED
    assert "credits were returned" in generation.error_message
    assert balance(member) == 40
    assert credits_selectors.ledger_audit().clean


def test_a_partial_failure_charges_only_what_was_delivered(member, media, face_jpeg, monkeypatch):
    generation, _ = submit(member, face_jpeg, batch_size=3)
    real = engine.render_one
    calls = {"n": 0}

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise engine.EngineError("one bad frame")
        return real(**kwargs)

    monkeypatch.setattr(engine, "render_one", flaky)
    services.headshot_run(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == Status.COMPLETED
    assert generation.images.count() == 2
    two = headshot_price(
        base_cost=generation.style.base_cost, is_premium=False, quality="standard", batch_size=2
    )
    assert generation.credits_used == two
    assert balance(member) == 40 - two


def test_running_twice_never_charges_twice(member, media, face_jpeg):
    generation, _ = submit(member, face_jpeg)
    services.headshot_run(generation_id=generation.pk)
    assert services.headshot_run(generation_id=generation.pk) is None
    assert balance(member) == 40 - generation.credits_held


def test_the_same_idempotency_key_returns_the_same_generation(member, media, face_jpeg):
    first, created_first = submit(member, face_jpeg, key="k1")
    second, created_second = submit(member, face_jpeg, key="k1")
    assert (created_first, created_second) == (True, False)
    assert first.pk == second.pk
    assert balance(member) == 40 - first.credits_held


def test_the_same_idempotency_key_with_another_request_is_a_conflict(member, media, face_jpeg):
    submit(member, face_jpeg, key="k1")
    with pytest.raises(Conflict):
        submit(member, face_jpeg, key="k1", batch_size=2)


def test_not_enough_credits_stores_and_charges_nothing(member, media, face_jpeg):
    credits_services.credits_hold(
        team_id=member.team.id, user_id=member.id, amount=39, key="x", category="headshot"
    )
    with pytest.raises(InsufficientCredits):
        submit(member, face_jpeg)
    assert not HeadshotGeneration.objects.exists()
    assert not list((media / "uploads").rglob("*.jpg")) if (media / "uploads").exists() else True


def test_a_photo_without_a_face_is_refused_before_any_charge(member, media, cat_jpeg):
    with pytest.raises(ApplicationError) as refused:
        submit(member, cat_jpeg)
    assert refused.value.status == 422
    assert "face" in refused.value.message.lower()
    assert balance(member) == 40
    assert not HeadshotGeneration.objects.exists()


def test_retry_of_a_failed_generation_reuses_the_upload(member, media, face_jpeg, monkeypatch):
    generation, _ = submit(member, face_jpeg)
    monkeypatch.setattr(
        engine, "render_one", lambda **kw: (_ for _ in ()).throw(engine.EngineError("down"))
    )
    services.headshot_run(generation_id=generation.pk)
    monkeypatch.undo()
    services.headshot_retry(user=member, generation_id=generation.pk)
    services.headshot_run(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == Status.COMPLETED
    assert generation.retry_count == 1
    assert balance(member) == 40 - generation.credits_held
    assert credits_selectors.ledger_audit().clean


def test_retry_after_the_original_was_deleted_asks_for_the_photo_again(
    member, media, face_jpeg, monkeypatch
):
    generation, _ = submit(member, face_jpeg)
    monkeypatch.setattr(
        engine, "render_one", lambda **kw: (_ for _ in ()).throw(engine.EngineError("down"))
    )
    services.headshot_run(generation_id=generation.pk)
    services.headshot_cleanup_originals(now=timezone.now() + timedelta(hours=2))
    with pytest.raises(ApplicationError) as refused:
        services.headshot_retry(user=member, generation_id=generation.pk)
    assert refused.value.status == 410


def test_reconciler_requeues_then_fails_a_stuck_job_and_releases(member, media, face_jpeg):
    generation, _ = submit(member, face_jpeg)
    HeadshotGeneration.objects.filter(pk=generation.pk).update(status=Status.PROCESSING)
    later = timezone.now() + timedelta(hours=1)
    for _ in range(2):
        HeadshotGeneration.objects.filter(pk=generation.pk).update(
            updated_at=timezone.now() - timedelta(hours=2)
        )
        assert services.headshot_reconcile(now=later)["requeued"] == 1
    HeadshotGeneration.objects.filter(pk=generation.pk).update(
        updated_at=timezone.now() - timedelta(hours=2)
    )
    assert services.headshot_reconcile(now=later)["failed"] == 1
    generation.refresh_from_db()
    assert generation.status == Status.FAILED
    assert balance(member) == 40
    assert credits_selectors.ledger_audit().clean


def test_reconciler_leaves_a_fresh_job_alone(member, media, face_jpeg):
    _generation, _ = submit(member, face_jpeg)
    assert services.headshot_reconcile() == {"requeued": 0, "failed": 0}


def test_cleanup_deletes_originals_after_the_retention_window(member, media, face_jpeg, settings):
    settings.HEADSHOT_RETENTION_MINUTES = 30
    generation, _ = submit(member, face_jpeg)
    services.headshot_run(generation_id=generation.pk)
    path = media / generation.source.name
    assert path.exists()
    assert services.headshot_cleanup_originals(now=timezone.now() + timedelta(minutes=10)) == 0
    assert services.headshot_cleanup_originals(now=timezone.now() + timedelta(minutes=31)) == 1
    assert not path.exists()
    generation.refresh_from_db()
    assert generation.source_deleted_at is not None
    assert GeneratedImage.objects.filter(generation=generation).count() == 1  # results stay


def test_a_late_run_of_an_old_attempt_does_not_settle_the_retry(
    member, media, face_jpeg, monkeypatch
):
    generation, _ = submit(member, face_jpeg)
    stale = HeadshotGeneration.objects.get(pk=generation.pk)  # what a slow worker holds in memory
    monkeypatch.setattr(
        engine, "render_one", lambda **kw: (_ for _ in ()).throw(engine.EngineError("down"))
    )
    services.headshot_run(generation_id=generation.pk)
    monkeypatch.undo()
    services.headshot_retry(user=member, generation_id=generation.pk)
    held = 40 - generation.credits_held
    assert balance(member) == held

    services._finish(stale, None, elapsed_ms=1)  # the slow worker of attempt 1 finally ends
    assert balance(member) == held  # attempt 2's hold is untouched
    assert HeadshotGeneration.objects.get(pk=generation.pk).status == Status.QUEUED

    services.headshot_run(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == Status.COMPLETED
    assert balance(member) == held
    assert credits_selectors.ledger_audit().clean


def test_a_price_change_while_the_job_runs_charges_the_quoted_price(member, media, face_jpeg):
    from headshots.models import HeadshotStyle

    generation, _ = submit(member, face_jpeg, batch_size=2)
    quoted = generation.credits_held
    HeadshotStyle.objects.filter(pk=generation.style_id).update(base_cost=9, is_premium=True)
    services.headshot_run(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == Status.COMPLETED
    assert generation.credits_used == quoted
    assert balance(member) == 40 - quoted


def test_a_lost_database_connection_mid_job_settles_nothing_and_the_rerun_completes(
    member, media, face_jpeg, monkeypatch
):
    generation, _ = submit(member, face_jpeg, batch_size=2)
    real = services._record_delivery
    calls = {"n": 0}

    def connection_lost_on_the_second(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OperationalError("server closed the connection unexpectedly")
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "_record_delivery", connection_lost_on_the_second)
    with pytest.raises(OperationalError):
        services.headshot_run(generation_id=generation.pk)
    generation.refresh_from_db()
    assert (generation.status, generation.images.count()) == (Status.PROCESSING, 1)
    assert credits_selectors.allocation_member(team_id=member.team.id, user_id=member.id).held > 0

    services.headshot_run(generation_id=generation.pk)  # the task's retry

    generation.refresh_from_db()
    assert (generation.status, generation.images.count()) == (Status.COMPLETED, 2)
    assert balance(member) == 40 - generation.credits_used
    assert credits_selectors.ledger_audit().clean


def test_an_unexpected_failure_tells_the_member_nothing_internal(
    member, media, face_jpeg, monkeypatch
):
    generation, _ = submit(member, face_jpeg)

    def broken(**kwargs):
        raise RuntimeError("connection to 10.0.0.7 refused")

    monkeypatch.setattr(engine, "render_one", broken)
    services.headshot_run(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.error_code == "render_failed"
    assert generation.error_message == (
        "Something went wrong while making your headshots. Your credits were returned."
    )


def test_an_engine_failure_tells_the_member_its_own_sentence(member, media, face_jpeg, monkeypatch):
    generation, _ = submit(member, face_jpeg)

    def broken(**kwargs):
        raise engine.EngineError("The provider is busy", code="provider_busy")

    monkeypatch.setattr(engine, "render_one", broken)
    services.headshot_run(generation_id=generation.pk)
    generation.refresh_from_db()
    assert (generation.error_code, generation.error_message) == (
        "provider_busy",
        "The provider is busy. Your credits were returned.",
    )
