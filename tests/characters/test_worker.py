"""The lifecycle through a real Celery worker process on the configured broker."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from characters import services
from characters.models import Status
from credits import selectors as credits_selectors
from credits.models import Hold
from tests.characters.conftest import wait_until_finished

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def _submit(studio, photo, template="expression-sheet"):
    return services.version_generate(
        actor=studio["alice"],
        character_id=studio["character"].pk,
        template=template,
        art_style="anime",
        aspect_ratio="4:3",
        character_reference=SimpleUploadedFile("o.jpg", photo, content_type="image/jpeg"),
    )[0]


def test_worker_completes_a_generation_and_moves_exact_credits(
    characters_worker, studio, media, obama_jpeg
):
    version = _submit(studio, obama_jpeg)
    done = wait_until_finished(version.pk)
    assert done.status == Status.COMPLETED, done.error_message
    assert done.is_active and done.version_number == 1
    assert (media / done.image.name).exists() and (media / done.thumbnail.name).exists()
    assert (done.width, done.height) == (1024, 768)
    studio["character"].refresh_from_db()
    assert studio["character"].image.name == done.image.name
    assert (
        credits_selectors.balance_member(team_id=studio["team"].id, user_id=studio["alice"].id)
        == 40 - 12
    )
    hold = Hold.objects.get(key=done.hold_key)
    assert (hold.captured, hold.released) == (12, 0)
    assert credits_selectors.ledger_audit().clean


def test_worker_failure_releases_every_held_credit(
    characters_worker, studio, media, obama_jpeg, monkeypatch
):
    # Hold the job back until the reference is gone (on_commit runs at once in this test).
    queued: list[int] = []
    monkeypatch.setattr(services, "_enqueue", queued.append)
    version = _submit(studio, obama_jpeg, template="headshot")
    monkeypatch.undo()
    version.character_reference.delete(save=False)  # the stored reference vanished
    assert queued == [version.pk]
    services._enqueue(version.pk)
    done = wait_until_finished(version.pk)
    assert done.status == Status.FAILED
    assert done.error_code == "reference_missing"
    assert (
        credits_selectors.balance_member(team_id=studio["team"].id, user_id=studio["alice"].id)
        == 40
    )
    assert credits_selectors.ledger_audit().clean
