"""API under load: gunicorn (2 workers) on PostgreSQL, wrk on loopback.

Reads a member's app makes all day (status polling, a history page of 20 with images,
config) against a floor on the same server: a bare Django JSON view. Prints throughput
(ratio floor/ours, target ours >= 60% of the floor) and p95 latency (target < 50 ms).
Needs Debian's wrk (`apt-get install wrk`). Submit under load is not measured yet.
Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/portrait .venv/bin/python bench/api_load.py
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUPPORT = ROOT / "bench" / "support"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portrait")
if not shutil.which("wrk"):
    # Not installed by the repo (Debian's package): say so and skip, don't fail `make bench`.
    print("API under load: skipped, wrk is not installed (apt-get install wrk)")
    sys.exit(0)
MEDIA = tempfile.mkdtemp(prefix="bench-load-")
os.environ["MEDIA_ROOT"] = MEDIA

import django  # noqa: E402

django.setup()

from _common import print_header, print_row  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
PASSWORD = "a-long-bench-password-1"  # noqa: S105 - a throwaway user in a bench database


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _seed() -> tuple[str, int]:
    """A member with 20 finished generations (with image files); returns (email, one id)."""
    from PIL import Image

    from accounts.services import user_create
    from headshots.models import GeneratedImage, HeadshotGeneration, HeadshotStyle, Status
    from headshots.styles_seed import seed_styles
    from teams.selectors import team_personal_for_user

    seed_styles(HeadshotStyle)
    email = f"load{time.time_ns()}@example.com"
    user = user_create(email=email, password=PASSWORD)
    team = team_personal_for_user(user=user)
    style = HeadshotStyle.objects.get(slug="corporate")
    picture = io.BytesIO()
    Image.new("RGB", (64, 64), (100, 110, 120)).save(picture, format="JPEG")
    last = None
    for i in range(20):
        last = HeadshotGeneration.objects.create(
            user=user,
            team=team,
            style=style,
            aspect_ratio="1:1",
            status=Status.COMPLETED,
            progress=100,
        )
        image = GeneratedImage(
            generation=last, index=0, width=64, height=64, seed=i, engine="studio"
        )
        image.image.save("0.jpg", ContentFile(picture.getvalue()), save=False)
        image.thumbnail.save("0-t.jpg", ContentFile(picture.getvalue()), save=False)
        image.save()
    return email, last.pk


def _start_gunicorn(port: int) -> subprocess.Popen:
    s = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "DATABASE_URL": f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}",
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "k" * 60,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "THROTTLE_USER": "100000000/min",
        "THROTTLE_ANON": "100000000/min",
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(  # noqa: S603 - our own server
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--pythonpath",
            f"{ROOT},{SUPPORT}",
            "--log-level",
            "warning",
            "config.wsgi:application",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/floor", timeout=1)
            return process
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def _login(port: int, email: str) -> str:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/_allauth/app/v1/auth/login",
        data=json.dumps({"email": email, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.load(response)["meta"]["session_token"]


def _wrk(url: str, token: str | None = None) -> dict[str, float]:
    command = [
        "wrk",
        "-t2",
        f"-c{CONNECTIONS}",
        f"-d{SECONDS}s",
        "-s",
        str(SUPPORT / "p95.lua"),
        url,
    ]
    if token:
        command[1:1] = ["-H", f"X-Session-Token: {token}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    found = re.search(r"BENCH p95_us=(\d+) p50_us=(\d+) rps=([\d.]+) errors=(\d+)", out)
    if not found:
        raise RuntimeError(out)
    p95, p50, rps, errors = found.groups()
    if int(errors):
        print(f"warning: {errors} errors or non-2xx answers from {url}", file=sys.stderr)
    return {"p95_ms": int(p95) / 1000, "p50_ms": int(p50) / 1000, "rps": float(rps)}


def main() -> None:
    setup_test_environment()
    if connection.vendor != "postgresql":
        sys.exit("bench/api_load.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, keepdb=True)
    port = _free_port()
    server = None
    try:
        email, generation_id = _seed()
        server = _start_gunicorn(port)
        token = _login(port, email)
        base = f"http://127.0.0.1:{port}"
        floor = _wrk(f"{base}/floor")
        print_header()
        for label, path in [
            ("status poll", f"/api/v1/headshots/{generation_id}"),
            ("history page of 20 with images", "/api/v1/headshots?page_size=20"),
            ("config", "/api/v1/headshots/config"),
        ]:
            ours = _wrk(base + path, token)
            print_row(
                f"{label}: req/s, {CONNECTIONS} conns",
                ours["rps"],
                floor["rps"],
                "req/s",
                "ratio <= 1.67 (>= 60%)",
                higher_is_better=True,
            )
            print_row(f"{label}: p95", ours["p95_ms"], floor["p95_ms"], "ms", "ours < 50 ms")
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=True)


if __name__ == "__main__":
    main()
