"""Faults with real processes: a worker killed mid-job, the database restarting under the
worker. Afterwards the job is completed or failed (never stuck) and every held credit is
captured or released."""

import time
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.utils import timezone

from credits import selectors as credits_selectors
from credits import services as credits_services
from headshots import services
from headshots.models import HeadshotGeneration, Status
from headshots.pricing import headshot_price
from tests.conftest import client_for, needs_postgres, start_worker, stop_worker
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


# --- the database restarts under the worker (issue 8) -------------------------------------------
# A restart (or failover) looks to every client like its server process went away: the next
# query on a connection opened before it fails. pg_terminate_backend does exactly that to every
# connection to the test database except the test's own, which the test keeps for polling.


def _restart_database() -> int:
    """Terminate every other backend on the test database; return how many there were."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


@pytest.fixture
def postgres_worker(media, worker_log):
    """A real worker, started only once the test is known to run on PostgreSQL."""
    needs_postgres()
    process = start_worker(media, worker_log)
    yield process
    stop_worker(process)


def _member(credits: int = 30):
    team = TeamFactory()
    user = MembershipFactory(team=team).user
    credits_services.credits_grant(
        team_id=team.id, user_id=user.id, amount=credits, category="purchase", key=f"g{user.id}"
    )
    return user, team


def _api_submit(user, team, photo: bytes, *, batch_size: int) -> int:
    response = client_for(user).post(
        "/api/v1/headshots",
        {
            "team": team.id,
            "style": "corporate",
            "aspect_ratio": "1:1",
            "quality": "standard",
            "batch_size": batch_size,
            "photo": SimpleUploadedFile("me.jpg", photo, content_type="image/jpeg"),
        },
        format="multipart",
    )
    assert response.status_code == 202, response.content
    return response.json()["id"]


def _assert_settled_exactly(generation: HeadshotGeneration, *, team, user, granted: int) -> None:
    price = headshot_price(
        base_cost=generation.style.base_cost,
        is_premium=False,
        quality="standard",
        batch_size=generation.batch_size,
    )
    assert generation.status == Status.COMPLETED, (generation.error_code, generation.error_message)
    assert generation.progress == 100
    assert generation.images.count() == generation.batch_size
    assert generation.credits_used == price == sum(i.credits for i in generation.images.all())
    assert credits_selectors.balance_member(team_id=team.id, user_id=user.id) == granted - price
    report = credits_selectors.ledger_audit()
    assert report.clean, report.problems


@pytest.mark.postgres
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_database_restart_between_submit_and_run_leaves_a_completed_job(
    postgres_worker, face_jpeg
):
    """The worker has served a job before (so it connected once); the database restarts after
    the submit commits and before the run is enqueued. The run must start on a fresh
    connection: Celery's Django fixup closes connections around every task, and the task
    retries on a dead one in case a deployment keeps them (CELERY_DB_REUSE_MAX)."""
    user, team = _member()
    warm = _wait(_api_submit(user, team, face_jpeg, batch_size=1), lambda g: g.is_finished, 30)
    assert warm.status == Status.COMPLETED

    restarted: list[int] = []
    with transaction.atomic():
        # on_commit callbacks run in registration order: this one runs after the submit's
        # commit and before the submit's own callback enqueues the run.
        transaction.on_commit(lambda: restarted.append(_restart_database()))
        pk = _api_submit(user, team, face_jpeg, batch_size=2)
        assert HeadshotGeneration.objects.get(pk=pk).status == Status.QUEUED
    assert len(restarted) == 1

    done = _wait(pk, lambda g: g.is_finished, timeout=30)
    _assert_settled_exactly(done, team=team, user=user, granted=30 - warm.credits_used)


@pytest.mark.postgres
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_database_restart_mid_job_is_retried_and_charges_exactly_once(
    postgres_worker, face_jpeg, worker_log
):
    """The connection dies between two renders of a running job: the run fails even to record
    its failure. The task runs again on a fresh connection and resumes after the delivered
    image; nothing waits for the reconciler's timeout and nothing is charged twice."""
    user, team = _member()
    pk = _api_submit(user, team, face_jpeg, batch_size=4)
    running = _wait(pk, lambda g: g.progress >= 25 and g.status == Status.PROCESSING, 30)
    assert running.progress < 100

    assert _restart_database() >= 1  # the worker's connection, open mid-job, is among them

    done = _wait(pk, lambda g: g.is_finished, timeout=30)
    _assert_settled_exactly(done, team=team, user=user, granted=30)
    assert "Retry in" in worker_log.read_text(errors="replace")  # the task, not the reconciler
