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

from headshots.models import HeadshotStyle

ROOT = Path(__file__).resolve().parents[2]


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


@pytest.fixture
def styles(db):
    """The seeded styles (data migration); a test-local cheap one for exact arithmetic."""
    return {s.slug: s for s in HeadshotStyle.objects.all()}


def _test_database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def worker_process(media):
    """A real `celery -A config worker` process on the configured broker and the test database."""
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "MEDIA_ROOT": str(media),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
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
            f"test{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    time.sleep(0.5)
    yield process
    os.killpg(process.pid, signal.SIGTERM)
    try:
        out, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, _ = process.communicate()
    print(out.decode(errors="replace")[-4000:])
