import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from PIL import Image
from rest_framework.test import APIClient

from credits import services as credits_services
from teams.models import Role
from tests.factories import MembershipFactory, TeamFactory, UserFactory

ROOT = Path(__file__).resolve().parents[1]
# CI sets REQUIRE_SERVICES=1: a test that needs PostgreSQL or Redis then fails loudly
# instead of skipping, so a missing service can never hide behind a green run.
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def pytest_configure(config) -> None:
    from django.conf import settings

    # Real hashing costs ~0.3 s a user; tests create hundreds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def needs_postgres() -> None:
    if connection.vendor != "postgresql":
        if REQUIRE_SERVICES:
            pytest.fail("This test needs PostgreSQL (DATABASE_URL) and CI requires it.")
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://...")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters and cached rows must not leak from one test into the next
    (a transaction=True test's flush deletes rows a process may have cached)."""
    from django.core.cache import cache

    from credits.services import system_accounts_forget

    cache.clear()
    system_accounts_forget()
    yield
    cache.clear()
    system_accounts_forget()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """A reused test database may have lost its seeded rows to an earlier flush."""
    from headshots.models import HeadshotStyle
    from headshots.styles_seed import seed_styles

    with django_db_blocker.unblock():
        seed_styles(HeadshotStyle)


@pytest.fixture(autouse=True)
def _default_styles(request):
    """`transaction=True` tests start after a flush that removed the seeded styles."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or (
        "live_server" in request.fixturenames
    )
    if transactional:
        from headshots.models import HeadshotStyle
        from headshots.styles_seed import seed_styles

        request.getfixturevalue("transactional_db")
        seed_styles(HeadshotStyle)


@pytest.fixture
def api():
    return APIClient()


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def team_setup(db):
    """A shared team: an admin, two members, an outsider in another team; 100 in the pool."""
    team = TeamFactory(name="Acme")
    admin = MembershipFactory(team=team, role=Role.ADMIN).user
    alice = MembershipFactory(team=team).user
    bob = MembershipFactory(team=team).user
    other_team = TeamFactory(name="Other")
    outsider = MembershipFactory(team=other_team, role=Role.ADMIN).user
    credits_services.credits_grant(
        team_id=team.id, amount=100, category=credits_services.Category.PURCHASE, key="seed:acme"
    )
    return {
        "team": team,
        "admin": admin,
        "alice": alice,
        "bob": bob,
        "other_team": other_team,
        "outsider": outsider,
    }


@pytest.fixture
def user(db):
    return UserFactory()


# --- photos, media and a real worker, shared by the app and browser tests ---------


def jpeg_bytes(image: Image.Image, **save) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=92, **save)
    return out.getvalue()


@pytest.fixture(scope="session")
def face_jpeg() -> bytes:
    from skimage import data

    return jpeg_bytes(Image.fromarray(data.astronaut()))


@pytest.fixture(scope="session")
def cat_jpeg() -> bytes:
    from skimage import data

    return jpeg_bytes(Image.fromarray(data.chelsea()))


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    return settings.MEDIA_ROOT


def _test_database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def start_worker(media, log_path: Path) -> subprocess.Popen:
    """A real `celery -A config worker` process on the configured broker and the test
    database. Its output goes to a file: a pipe nobody reads would block it."""
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "MEDIA_ROOT": str(media),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    log = log_path.open("ab")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "-n",
            f"test{os.getpid()}-{time.monotonic_ns()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    time.sleep(0.5)
    return process


def stop_worker(process: subprocess.Popen, *, kill: bool = False) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGKILL if kill else signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture
def worker_log(tmp_path) -> Path:
    path = tmp_path / "worker.log"
    yield path
    if path.exists():
        print(path.read_text(errors="replace")[-4000:])


@pytest.fixture
def worker_process(media, worker_log):
    """A real worker for the duration of a test."""
    process = start_worker(media, worker_log)
    yield process
    stop_worker(process)
