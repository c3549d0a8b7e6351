"""Shared by the API benchmarks (bench/api_load.py, bench/growth.py, profile_reads.py):
the production-shaped environment, members with a history and session tokens, a 1 MB
selfie and its multipart body, and the Redis clean-up.

Call `configure()` before `django.setup()`: this process mints the session tokens that
the gunicorn server reads, so both need the same settings, secret and cache.
"""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUPPORT = ROOT / "bench" / "support"
KEY_PREFIX = "bench-apiload"
QUEUE = "bench-apiload"
PASSWORD = "a-long-bench-password-1"  # noqa: S105 - throwaway users in a bench database
HISTORY = 20


def redis_url() -> str:
    if os.environ.get("BENCH_REDIS_URL"):
        return os.environ["BENCH_REDIS_URL"]
    broker = os.environ.get("CELERY_BROKER_URL", "")
    return broker if broker.startswith("redis") else "redis://127.0.0.1:6379/0"


def server_env() -> dict[str, str]:
    """The production shape from the environment: DEBUG off, Redis cache, real secret."""
    url = redis_url()
    return {
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "k" * 60,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",  # loopback HTTP; production terminates TLS in front
        "LOG_LEVEL": "WARNING",
        # Keys of their own in a shared Redis, so the benchmark deletes exactly what it wrote.
        "CACHE_URL": f"{url}{'&' if '?' in url else '?'}key_prefix={KEY_PREFIX}",
        "CELERY_BROKER_URL": url,
        "BENCH_CELERY_QUEUE": QUEUE,
    }


def configure(media: str) -> None:
    # Celery's Django fix-up puts the working directory first on sys.path: run from this
    # checkout, or another checkout's apps would be imported.
    os.chdir(ROOT)
    for path in (ROOT, ROOT / "bench", SUPPORT):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portrait")
    os.environ["MEDIA_ROOT"] = media
    os.environ.update(server_env())
    for name in ("THROTTLE_USER", "THROTTLE_ANON", "THROTTLE_SUBMIT", "CELERY_RESULT_BACKEND"):
        os.environ.pop(name, None)  # production rates


def redis_ready() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(redis_url(), socket_timeout=2).ping())
    except redis.RedisError:
        return False


def redis_cleanup() -> None:
    """Delete what the benchmark wrote: its cache keys and its Celery queue."""
    import redis

    client = redis.Redis.from_url(redis_url())
    for key in client.scan_iter(match=f"{KEY_PREFIX}:*", count=1000):
        client.delete(key)
    client.delete(QUEUE, f"_kombu.binding.{QUEUE}")


def use_database(suffix: str) -> str:
    """A kept test database of the benchmark's own, emptied: the same rows every run.
    Returns the original name, for `destroy_test_db`."""
    from django.core.management import call_command
    from django.db import connection

    old_name = connection.settings_dict["NAME"]
    connection.settings_dict["TEST"]["NAME"] = f"test_{old_name}_{suffix}"
    connection.creation.create_test_db(verbosity=0, keepdb=True)
    call_command("flush", interactive=False, verbosity=0)
    return old_name


def backend_cpu_seconds() -> float:
    """CPU seconds of the default connection's PostgreSQL backend (same machine): the
    database's share of what this process asks, which its own CPU time does not show."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def face_photo(min_bytes: int = 1_000_000) -> bytes:
    """A real face as a JPEG of about 1 MB (a phone selfie's size): face_recognition's test
    photo when scripts/fetch_test_assets.py has fetched it, else skimage's astronaut."""
    from PIL import Image

    local = ROOT / "tests" / "assets" / "downloaded" / "faces" / "obama.jpg"
    if local.is_file():
        image = Image.open(local).convert("RGB")
    else:
        from skimage import data

        image = Image.fromarray(data.astronaut())
    side = max(image.size)
    while True:
        scale = side / max(image.size)
        scaled = image.resize(
            (round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS
        )
        out = io.BytesIO()
        scaled.save(out, format="JPEG", quality=92)
        if out.tell() >= min_bytes:
            return out.getvalue()
        side += 128


def multipart(photo: bytes) -> tuple[bytes, str]:
    """The submit body a phone sends: the spec fields and the photo."""
    boundary = "----bench-boundary-7d4a1f"
    fields = {"style": "corporate", "aspect_ratio": "1:1", "quality": "standard", "batch_size": 1}
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    )
    body += (
        f"--{boundary}\r\nContent-Disposition: form-data; "
        'name="photo"; filename="selfie.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
    ).encode()
    body += photo + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def session_token(user) -> str:
    """What allauth's app login leaves behind: a saved session whose key is the token."""
    from django.contrib.auth import login
    from django.contrib.sessions.backends.cached_db import SessionStore
    from django.http import HttpRequest

    request = HttpRequest()
    request.session = SessionStore()
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session.save()
    return request.session.session_key


def image_files() -> dict[str, str]:
    """One small jpeg, webp and thumbnail in storage, shared by every seeded image row."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (64, 64), (100, 110, 120)).save(picture, format="JPEG")
    return {
        kind: default_storage.save(f"bench/0{suffix}", ContentFile(picture.getvalue()))
        for kind, suffix in (("image", ".jpg"), ("image_webp", ".webp"), ("thumbnail", "-t.jpg"))
    }


def history_rows(*, user, team, style, count: int, inspection: dict, files: dict, when=None):
    """`count` finished generations of one member, one delivered image each (unsaved)."""
    from django.utils import timezone

    from headshots.models import GeneratedImage, HeadshotGeneration, Status

    when = when or timezone.now()
    generations = [
        HeadshotGeneration(
            user=user,
            team=team,
            style=style,
            aspect_ratio="1:1",
            status=Status.COMPLETED,
            progress=100,
            credits_held=3,
            credits_used=3,
            engine="studio",
            processing_ms=900,
            inspection=inspection,
            metadata={"seed": i, "base_cost": 3, "is_premium": False},
            started_at=when,
            finished_at=when,
        )
        for i in range(count)
    ]
    images = [
        GeneratedImage(
            generation=g,
            index=0,
            width=1024,
            height=1024,
            seed=i,
            engine="studio",
            model_name="studio-1",
            identity_score=0.81,
            quality_score=0.9,
            credits=3,
            **files,
        )
        for i, g in enumerate(generations)
    ]
    return generations, images


def seed_members(*, count: int, photo: bytes, workdir: Path) -> tuple[str, Path]:
    """`count` members, each with HISTORY finished generations, credits for submits and a
    session token. Returns the first member's email (the one with a password, for a real
    allauth login) and a file of "token<TAB>generation id" lines for load.lua."""
    from accounts.services import user_create
    from credits import services as credits_services
    from headshots import engine
    from headshots.models import GeneratedImage, HeadshotGeneration, HeadshotStyle
    from headshots.styles_seed import seed_styles
    from teams.selectors import team_personal_for_user

    seed_styles(HeadshotStyle)
    style = HeadshotStyle.objects.get(slug="corporate")
    inspection = engine.inspect(photo).as_dict()
    files = image_files()
    run = time.time_ns()
    lines, first_email = [], ""
    for m in range(count):
        email = f"load{run}-{m}@example.com"
        user = user_create(email=email, password=PASSWORD if m == 0 else None)
        first_email = first_email or email
        team = team_personal_for_user(user=user)
        credits_services.credits_grant(
            team_id=team.id,
            user_id=user.id,
            amount=1000,
            category=credits_services.Category.PURCHASE,
            key=f"bench-load:{user.id}",
        )
        generations, images = history_rows(
            user=user, team=team, style=style, count=HISTORY, inspection=inspection, files=files
        )
        HeadshotGeneration.objects.bulk_create(generations)
        GeneratedImage.objects.bulk_create(images)
        lines.append(f"{session_token(user)}\t{generations[-1].pk}")
    members = workdir / "members.tsv"
    members.write_text("\n".join(lines) + "\n")
    return first_email, members
