"""Generate, run, check, deliver or fail, reconcile: through the services, with the real
studio engine and real face photos. Balances are asserted exactly."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.utils import timezone

from characters import engine, services
from characters.models import CharacterImageVersion, ConsistencyPolicy, Status
from characters.pricing import character_price
from common.errors import ApplicationError, Conflict, InsufficientCredits
from credits import selectors as credits_selectors
from credits.models import Hold
from staff.services import site_settings_update
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def balance(studio, who="alice"):
    return credits_selectors.balance_member(team_id=studio["team"].id, user_id=studio[who].id)


def upload(data: bytes, name="ref.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def generate(studio, photo: bytes | None, *, who="alice", template="expression-sheet", **extra):
    return services.version_generate(
        actor=studio[who],
        character_id=studio["character"].pk,
        template=template,
        art_style=extra.pop("art_style", "realistic"),
        aspect_ratio=extra.pop("aspect_ratio", "1:1"),
        character_reference=upload(photo) if photo is not None else None,
        **extra,
    )


def test_generate_holds_the_price_and_queues_after_commit(
    studio, media, obama_jpeg, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(services, "_enqueue", queued.append)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        version, created = generate(studio, obama_jpeg)
    assert queued == []  # nothing is queued before the commit
    for callback in callbacks:
        callback()
    assert created and version.status == Status.QUEUED
    assert version.credit_cost == character_price(template="expression-sheet") == 12
    assert balance(studio) == 40 - 12
    assert Hold.objects.get(key=version.hold_key).amount == 12
    assert queued == [version.pk]
    assert version.mode == "image_to_image"
    assert version.character_reference and version.version_number is None


def test_a_successful_run_saves_activates_and_charges_exactly(studio, media, obama_jpeg):
    version, _ = generate(studio, obama_jpeg, version_name="Sheet one")
    services.version_run(version_id=version.pk)
    version.refresh_from_db()
    character = studio["character"]
    character.refresh_from_db()

    assert version.status == Status.COMPLETED, version.error_message
    assert (version.version_number, version.is_active, version.progress) == (1, True, 100)
    assert version.credits_used == 12
    assert balance(studio) == 40 - 12
    assert (
        credits_selectors.balance_member(team_id=studio["team"].id, user_id=studio["bob"].id) == 40
    )
    hold = Hold.objects.get(key=version.hold_key)
    assert (hold.captured, hold.released, hold.outstanding) == (12, 0, 0)
    assert credits_selectors.ledger_audit().clean
    (line,) = credits_selectors.history_for_user(user_id=studio["alice"].id, category="character")
    assert line.amount == -12
    assert line.transaction.memo == f"Character studio: {character.name}, 3x3 Expression Sheet"
    # The character is auto-saved with the new image (seed Phase 1) and its poses.
    assert character.image.name == version.image.name
    assert character.thumbnail.name == version.thumbnail.name
    assert [pose["label"] for pose in character.poses] == [
        "Happy", "Sad", "Angry", "Surprised", "Fear", "Disgust", "Neutral", "Smirk", "Laugh",
    ]  # fmt: skip
    # The consistency score is recorded; the real face passes.
    assert version.identity_score is not None and version.identity_score > 0.58
    assert version.ssim_score is not None and version.attempts == 1
    assert version.image.size > 0 and version.thumbnail.size > 0
    assert version.engine == "studio" and version.prompt_used.startswith("Happy:")
    assert len({panel["seed"] for panel in version.panels}) == 1  # one seed locked
    # The maker now looks at the new version.
    from characters import selectors

    assert selectors.version_last_viewed(user=studio["alice"], character=character) == version


def test_a_rendering_failure_releases_every_held_credit(studio, media, obama_jpeg, monkeypatch):
    version, _ = generate(studio, obama_jpeg)

    def broken(**kwargs):
        raise engine.EngineError("the engine fell over", code="engine_down")

    monkeypatch.setattr(engine, "render", broken)
    services.version_run(version_id=version.pk)
    version.refresh_from_db()
    assert version.status == Status.FAILED
    assert version.error_code == "engine_down"
    assert "credits were returned" in version.error_message
    assert not version.is_active and version.version_number is None
    assert balance(studio) == 40
    hold = Hold.objects.get(key=version.hold_key)
    assert (hold.captured, hold.released) == (0, 12)
    assert credits_selectors.ledger_audit().clean
    studio["character"].refresh_from_db()
    assert not studio["character"].image


def test_below_the_staff_threshold_it_is_rerendered_three_times_then_failed(
    studio, media, obama_jpeg, monkeypatch
):
    site_settings_update(actor=UserFactory(is_staff=True), identity_threshold=0.999)
    ConsistencyPolicy.objects.create(max_rerenders=3)
    renders = []
    real = engine.generation.render_character

    def counting(request, engine_=None):
        renders.append(request.seed)
        return real(request, engine_)

    monkeypatch.setattr(engine.generation, "render_character", counting)
    version, _ = generate(studio, obama_jpeg, template="headshot")
    services.version_run(version_id=version.pk)
    version.refresh_from_db()
    assert len(renders) == 4 and len(set(renders)) == 4  # 1 + 3 re-renders, new seeds
    assert version.status == Status.FAILED
    assert version.error_code == "consistency_failed"
    assert version.attempts == 4
    assert version.identity_score is not None and version.identity_score < 0.999
    assert len(version.metadata["rejected"]) == 4
    assert balance(studio) == 40
    assert credits_selectors.ledger_audit().clean


def test_a_rerender_that_passes_is_delivered(studio, media, obama_jpeg, monkeypatch):
    """The first render drifts (scored low), the second keeps the character."""
    scores = iter([{"identity": 0.2, "ssim": 0.1}])
    real = engine.generation.reference_consistency

    def first_low(reference, result):
        return next(scores, None) or real(reference, result)

    monkeypatch.setattr(engine.generation, "reference_consistency", first_low)
    version, _ = generate(studio, obama_jpeg, template="headshot")
    services.version_run(version_id=version.pk)
    version.refresh_from_db()
    assert version.status == Status.COMPLETED
    assert version.attempts == 2
    assert version.metadata["rejected"][0]["identity"] == 0.2
    assert balance(studio) == 40 - 4


def test_text_only_on_the_studio_engine_is_a_plain_400_and_charges_nothing(studio, media):
    with pytest.raises(ApplicationError) as error:
        generate(studio, None)
    assert error.value.status == 400
    assert error.value.code == "reference_required"
    assert "reference" in error.value.message
    assert balance(studio) == 40
    assert not CharacterImageVersion.objects.exists()


def test_a_reference_without_a_face_is_refused_before_any_charge(studio, media, cat_jpeg):
    with pytest.raises(ApplicationError) as error:
        generate(studio, cat_jpeg)
    assert error.value.code == "reference_no_face"
    assert balance(studio) == 40
    assert not CharacterImageVersion.objects.exists()


def test_not_an_image_is_refused(studio, media):
    with pytest.raises(ApplicationError) as error:
        generate(studio, b"GIF89a not really")
    assert error.value.code == "reference_unusable"
    assert balance(studio) == 40


def test_not_enough_credits_stores_and_charges_nothing(studio, media, obama_jpeg):
    for _ in range(2):
        generate(studio, obama_jpeg)  # 2 x 12 held
    assert balance(studio) == 16
    generate(studio, obama_jpeg)  # 4 left
    with pytest.raises(InsufficientCredits):
        generate(studio, obama_jpeg)
    assert CharacterImageVersion.objects.count() == 3
    assert balance(studio) == 4


def test_with_a_background_reference_it_costs_the_surcharge(studio, media, obama_jpeg, cat_jpeg):
    version, _ = generate(
        studio, obama_jpeg, template="headshot", background_reference=upload(cat_jpeg, "set.jpg")
    )
    assert version.credit_cost == character_price(template="headshot", with_background=True) == 5
    services.version_run(version_id=version.pk)
    version.refresh_from_db()
    assert version.status == Status.COMPLETED, version.error_message
    assert balance(studio) == 40 - 5


def test_running_twice_never_charges_twice(studio, media, obama_jpeg):
    version, _ = generate(studio, obama_jpeg, template="headshot")
    services.version_run(version_id=version.pk)
    assert services.version_run(version_id=version.pk) is None
    assert balance(studio) == 40 - 4
    assert credits_selectors.ledger_audit().clean


def test_the_same_idempotency_key_returns_the_same_version(studio, media, obama_jpeg):
    first, created_first = generate(studio, obama_jpeg, idempotency_key="k1")
    second, created_second = generate(studio, obama_jpeg, idempotency_key="k1")
    assert (created_first, created_second) == (True, False)
    assert first.pk == second.pk
    assert balance(studio) == 40 - 12


def test_a_retry_after_the_first_job_finished_is_still_a_replay(studio, media, obama_jpeg):
    """The default name (numbered from finished versions) was part of the fingerprint: once
    the first job completed, the identical retry looked like another request (409)."""
    first, _ = generate(studio, obama_jpeg, idempotency_key="k1")
    services.version_run(version_id=first.pk)
    first.refresh_from_db()
    assert first.status == Status.COMPLETED
    again, created = generate(studio, obama_jpeg, idempotency_key="k1")
    assert (again.pk, created) == (first.pk, False)
    assert balance(studio) == 40 - 12


def test_the_same_idempotency_key_with_another_request_is_a_conflict(studio, media, obama_jpeg):
    generate(studio, obama_jpeg, idempotency_key="k1")
    with pytest.raises(Conflict):
        generate(studio, obama_jpeg, idempotency_key="k1", template="headshot")


def test_regenerate_reuses_the_saved_parameters_with_a_new_seed(studio, media, obama_jpeg):
    first, _ = generate(
        studio,
        obama_jpeg,
        template="hero",
        art_style="pixar",
        aspect_ratio="16:9",
        additional_description="storm coat",
    )
    services.version_run(version_id=first.pk)
    first.refresh_from_db()
    again, created = services.version_regenerate(
        actor=studio["bob"], character_id=studio["character"].pk, version_id=first.pk
    )
    assert created
    assert (again.template_type, again.art_style, again.aspect_ratio) == ("hero", "pixar", "16:9")
    assert again.additional_description == "storm coat"
    assert again.regenerated_from_id == first.pk
    assert again.seed != first.seed
    assert again.character_reference.name != first.character_reference.name  # its own copy
    services.version_run(version_id=again.pk)
    again.refresh_from_db()
    first.refresh_from_db()
    assert again.status == Status.COMPLETED and again.version_number == 2
    assert again.is_active and not first.is_active
    assert balance(studio, "bob") == 40 - 5  # bob pays for his regeneration
    assert balance(studio, "alice") == 40 - 5


def test_reconciler_requeues_then_fails_a_stuck_job_and_releases(studio, media, obama_jpeg):
    version, _ = generate(studio, obama_jpeg, template="headshot")
    later = timezone.now() + timedelta(hours=1)
    assert services.version_reconcile(now=later) == {"requeued": 1, "failed": 0}
    assert services.version_reconcile(now=later) == {"requeued": 1, "failed": 0}
    assert services.version_reconcile(now=later) == {"requeued": 0, "failed": 1}
    version.refresh_from_db()
    assert version.status == Status.FAILED and version.error_code == "stuck"
    assert balance(studio) == 40
    assert credits_selectors.ledger_audit().clean


def test_reconciler_leaves_a_fresh_job_alone(studio, media, obama_jpeg):
    generate(studio, obama_jpeg, template="headshot")
    assert services.version_reconcile() == {"requeued": 0, "failed": 0}


def test_a_version_failed_by_the_reconciler_is_not_delivered_late(
    studio, media, obama_jpeg, monkeypatch
):
    """The worker was only slow: its late result must not charge a released hold."""
    version, _ = generate(studio, obama_jpeg, template="headshot")
    real = engine.render

    def slow(**kwargs):
        outcome = real(**kwargs)
        CharacterImageVersion.objects.filter(pk=version.pk).update(
            metadata={"requeues": 2}, updated_at=timezone.now() - timedelta(hours=2)
        )
        services.version_reconcile()
        return outcome

    monkeypatch.setattr(engine, "render", slow)
    services.version_run(version_id=version.pk)
    version.refresh_from_db()
    assert version.status == Status.FAILED
    assert not version.image
    assert balance(studio) == 40
    assert credits_selectors.ledger_audit().clean


class FakeGenerative:
    """A remote engine stand-in: returns a rendered face, records what it was sent."""

    name = "openai"
    model = "fake-image-model"
    description = "fake"

    def __init__(self, picture: bytes):
        self.picture = picture
        self.requests = []

    def availability(self):
        from generation import Availability

        return Availability(True)

    def render(self, request):
        from generation import RenderedImage

        self.requests.append(request)
        return [
            RenderedImage(
                data=self.picture, format="jpeg", mime="image/jpeg", width=512, height=512,
                seed=request.seed, engine=self.name, model=self.model, metadata={},
            )
        ]  # fmt: skip


def test_without_a_reference_a_remote_engine_draws_from_text(studio, media, face_jpeg, monkeypatch):
    fake = FakeGenerative(face_jpeg)
    monkeypatch.setattr(engine, "current_engine", lambda: fake)
    version, _ = generate(studio, None, template="headshot", additional_description="red scarf")
    assert version.mode == "text_to_image" and not version.character_reference
    services.version_run(version_id=version.pk)
    version.refresh_from_db()
    assert version.status == Status.COMPLETED, version.error_message
    assert version.engine == "openai" and version.model_used == "fake-image-model"
    assert version.identity_score is None  # nothing to compare with
    assert version.metadata["mode"] == "text_to_image"
    sent = fake.requests[0]
    assert "red scarf" in sent.style.prompt and "Mara" in sent.style.prompt
    assert balance(studio) == 40 - 4


def test_a_lost_database_connection_while_delivering_settles_nothing_and_the_rerun_delivers(
    studio, media, obama_jpeg, monkeypatch
):
    version, _ = generate(studio, obama_jpeg, template="headshot")
    real = services._record_delivery

    def connection_lost(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "_record_delivery", connection_lost)
    with pytest.raises(OperationalError):
        services.version_run(version_id=version.pk)
    version.refresh_from_db()
    assert version.status == Status.PROCESSING
    hold = Hold.objects.get(key=version.hold_key)
    assert (hold.captured, hold.released) == (0, 0)

    monkeypatch.setattr(services, "_record_delivery", real)
    services.version_run(version_id=version.pk)  # the task's retry

    version.refresh_from_db()
    assert version.status == Status.COMPLETED and version.version_number == 1
    assert balance(studio) == 40 - version.credit_cost
    assert credits_selectors.ledger_audit().clean
