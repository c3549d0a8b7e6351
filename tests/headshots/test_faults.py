"""Faults with real processes: a worker killed mid-job, a provider that fails; afterwards the
job is completed or failed (never stuck) and every held credit is captured or released."""

import time
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from credits import selectors as credits_selectors
from credits import services as credits_services
from headshots import services
from headshots.models import HeadshotGeneration, Status
from headshots.pricing import headshot_price
from tests.conftest import start_worker, stop_worker
from tests.factories import MembershipFactory, TeamFactory


def _wait(pk: int, condition, timeout: float = 90) -> HeadshotGeneration:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        generation = HeadshotGeneration.objects.get(pk=pk)
        if condition(generation):
            return generation
        time.sleep(0.05)
    raise AssertionError(
        f"generation {pk} never got there: {HeadshotGeneration.objects.get(pk=pk).status}"
    )


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_job_is_reconciled_and_charges_exactly_once(
    media, face_jpeg, worker_log, settings
):
    team = TeamFactory()
    user = MembershipFactory(team=team).user
    credits_services.credits_grant(
        team_id=team.id, user_id=user.id, amount=30, category="purchase", key="g"
    )
    first = start_worker(media, worker_log)
    try:
        generation, _ = services.headshot_submit(
            user=user,
            team_id=team.id,
            style_slug="corporate",
            aspect_ratio="1:1",
            quality="standard",
            batch_size=4,
            photo=SimpleUploadedFile("me.jpg", face_jpeg, content_type="image/jpeg"),
        )
        _wait(generation.pk, lambda g: g.progress >= 25 and g.status == Status.PROCESSING)
    finally:
        stop_worker(first, kill=True)  # SIGKILL: no cleanup, no ack
    killed = HeadshotGeneration.objects.get(pk=generation.pk)
    assert killed.status == Status.PROCESSING and killed.progress < 100

    # The periodic reconciler notices the silent job and queues it again.
    later = timezone.now() + timedelta(seconds=settings.HEADSHOT_JOB_TIMEOUT_SECONDS + 1)
    assert services.headshot_reconcile(now=later)["requeued"] == 1
    second = start_worker(media, worker_log)
    try:
        done = _wait(generation.pk, lambda g: g.is_finished)
    finally:
        stop_worker(second)

    price = headshot_price(
        base_cost=done.style.base_cost, is_premium=False, quality="standard", batch_size=4
    )
    assert done.status == Status.COMPLETED
    assert done.images.count() == 4
    assert done.credits_used == price
    assert credits_selectors.balance_member(team_id=team.id, user_id=user.id) == 30 - price
    assert credits_selectors.ledger_audit().clean
