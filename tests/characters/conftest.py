"""Character studio fixtures: a team with a film project and a character, real face
photos, a local HTTP server for reference links, and a real Celery worker on a queue of
its own (other test sessions may share the filesystem broker)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from characters import services
from characters.models import Character, CharacterImageVersion, Status
from credits import services as credits_services
from tests.conftest import _test_database_url

ROOT = Path(__file__).resolve().parents[2]
FACES = ROOT / "tests" / "assets" / "downloaded" / "faces"


def face_photo(name: str) -> bytes:
    """A real face photo; fails (never skips) when the assets were not fetched."""
    path = FACES / name
    if not path.is_file():
        pytest.fail(
            f"missing test photo {path}. Run `.venv/bin/python scripts/fetch_test_assets.py`."
        )
    return path.read_bytes()


@pytest.fixture(scope="session")
def obama_jpeg() -> bytes:
    return face_photo("obama.jpg")


@pytest.fixture
def studio(team_setup):
    """team_setup plus 40 credits for alice and bob, a project by alice, one character."""
    team = team_setup["team"]
    for who in ("alice", "bob"):
        credits_services.credits_allocate(
            team_id=team.id,
            user_id=team_setup[who].id,
            amount=40,
            key=f"seed:allocate:{who}",
            actor_id=team_setup["admin"].id,
        )
    project = services.project_create(actor=team_setup["alice"], team_id=team.id, name="Lighthouse")
    character = services.character_create(
        actor=team_setup["alice"], project_id=project.pk, name="Mara"
    )
    return {**team_setup, "project": project, "character": character}


def jpeg(color=(120, 130, 140), size=(64, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="JPEG")
    return out.getvalue()


def finished_version(
    character: Character, user, *, number: int, active: bool = False, **fields
) -> CharacterImageVersion:
    """A completed version with real files, made without the engine (for list/switch tests)."""
    version = CharacterImageVersion(
        character=character,
        created_by=user,
        team=character.project.team,
        version_name=fields.pop("version_name", f"Version {number}"),
        version_number=number,
        status=Status.COMPLETED,
        progress=100,
        art_style=fields.pop("art_style", "realistic"),
        template_type=fields.pop("template_type", "headshot"),
        aspect_ratio=fields.pop("aspect_ratio", "1:1"),
        mode="image_to_image",
        credit_cost=4,
        credits_used=4,
        width=64,
        height=64,
        panels=[{"label": "Headshot", "prompt": "p", "seed": 1, "box": [0, 0, 64, 64]}],
        **fields,
    )
    version.image.save("image.jpg", ContentFile(jpeg()), save=False)
    version.thumbnail.save("thumb.jpg", ContentFile(jpeg()), save=False)
    version.character_reference.save("ref.jpg", ContentFile(jpeg()), save=False)
    version.save()
    if active:
        services.version_activate(actor=user, character_id=character.pk, version_id=version.pk)
        version.refresh_from_db()
    return version


# --- a local HTTP server for reference links -------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    routes: dict = {}
    hits: list = []

    def do_GET(self):
        self.hits.append(self.path)
        route = self.routes.get(self.path)
        if route is None:
            self.send_response(404)
            self.end_headers()
            return
        route(self)

    def log_message(self, *args):
        pass


class LocalServer:
    def __init__(self, host: str = "127.0.0.1"):
        handler = type("Handler", (_Handler,), {"routes": {}, "hits": []})
        self.httpd = ThreadingHTTPServer((host, 0), handler)
        self.httpd.daemon_threads = True
        self.handler = handler
        self.host = host
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    @property
    def hits(self) -> list:
        return self.handler.hits

    def route(self, path: str, fn) -> None:
        self.handler.routes[path] = fn

    def image(self, path: str, data: bytes, content_type: str = "image/jpeg") -> None:
        def send(handler):
            handler.send_response(200)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)

        self.route(path, send)

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        def send(handler):
            handler.send_response(status)
            handler.send_header("Location", location)
            handler.send_header("Content-Length", "0")
            handler.end_headers()

        self.route(path, send)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def http_server():
    server = LocalServer()
    yield server
    server.close()


@pytest.fixture
def second_server():
    """Another loopback address (127.0.0.2): a private target a redirect may point at."""
    server = LocalServer("127.0.0.2")
    yield server
    server.close()


# --- a real worker ---------------------------------------------------------------------------


@pytest.fixture
def characters_worker(media, settings):
    """`celery -A config worker` on a queue of its own, against the test database."""
    queue = f"characters-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    settings.CHARACTERS_TASK_QUEUE = queue
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "MEDIA_ROOT": str(media),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CHARACTERS_TASK_QUEUE": queue,
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
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
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


def wait_until_finished(pk: int, timeout: float = 120) -> CharacterImageVersion:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        version = CharacterImageVersion.objects.get(pk=pk)
        if version.is_finished:
            return version
        time.sleep(0.3)
    raise AssertionError(
        f"version {pk} did not finish: {CharacterImageVersion.objects.get(pk=pk).status}"
    )
