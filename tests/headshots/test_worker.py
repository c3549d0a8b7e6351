"""The whole lifecycle through a real Celery worker process and the configured broker."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from credits import selectors as credits_selectors
from credits import services as credits_services
from headshots import services
from headshots.models import HeadshotGeneration, Status
from tests.factories import MembershipFactory, TeamFactory


def _wait_until_finished(pk: int, timeout: float = 90) -> HeadshotGeneration:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        generation = HeadshotGeneration.objects.get(pk=pk)
        if generation.is_finished:
            return generation
        time.sleep(0.3)
    raise AssertionError(
        f"generation {pk} did not finish: {HeadshotGeneration.objects.get(pk=pk).status}"
    )


def _member():
    team = TeamFactory()
    user = MembershipFactory(team=team).user
    credits_services.credits_grant(
        team_id=team.id, user_id=user.id, amount=20, category="purchase", key=f"g{user.id}"
    )
    return user, team


def _submit(user, team, photo):
    return services.headshot_submit(
        user=user,
        team_id=team.id,
        style_slug="corporate",
        aspect_ratio="1:1",
        quality="standard",
        batch_size=2,
        photo=SimpleUploadedFile("me.jpg", photo, content_type="image/jpeg"),
    )[0]


@pytest.mark.django_db(transaction=True)
def test_worker_completes_a_submitted_job_and_moves_exact_credits(worker_process, face_jpeg, media):
    user, team = _member()
    generation = _submit(user, team, face_jpeg)
    done = _wait_until_finished(generation.pk)
    assert done.status == Status.COMPLETED, done.error_message
    assert done.images.count() == 2
    assert all((media / image.image.name).exists() for image in done.images.all())
    assert (
        credits_selectors.balance_member(team_id=team.id, user_id=user.id) == 20 - done.credits_held
    )
    assert done.credits_used == done.credits_held == 5
    assert credits_selectors.ledger_audit().clean


@pytest.mark.django_db(transaction=True)
def test_worker_failure_releases_every_held_credit(worker_process, face_jpeg, media, monkeypatch):
    user, team = _member()
    # Hold the job back until the upload is gone (on_commit runs at once in this test).
    queued: list[int] = []
    monkeypatch.setattr(services, "_enqueue", queued.append)
    generation = _submit(user, team, face_jpeg)
    monkeypatch.undo()
    generation.source.delete(save=False)  # the stored upload vanished (a storage fault)
    assert queued == [generation.pk]
    services._enqueue(generation.pk)
    done = _wait_until_finished(generation.pk)
    assert done.status == Status.FAILED
    assert done.error_code == "source_missing"
    assert credits_selectors.balance_member(team_id=team.id, user_id=user.id) == 20
    assert credits_selectors.ledger_audit().clean


@pytest.mark.django_db(transaction=True)
def test_the_same_idempotency_key_never_charges_twice_through_the_worker(
    worker_process, face_jpeg, media
):
    user, team = _member()

    def submit_once():
        return services.headshot_submit(
            user=user,
            team_id=team.id,
            style_slug="corporate",
            aspect_ratio="1:1",
            quality="standard",
            batch_size=1,
            photo=SimpleUploadedFile("me.jpg", face_jpeg, content_type="image/jpeg"),
            idempotency_key="tap-twice",
        )

    first, created = submit_once()
    done = _wait_until_finished(first.pk)
    again, created_again = submit_once()  # the app retried after the job finished
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert HeadshotGeneration.objects.filter(user=user).count() == 1
    assert (
        credits_selectors.balance_member(team_id=team.id, user_id=user.id)
        == 20 - done.credits_used
        == 17
    )
    assert credits_selectors.ledger_audit().clean
