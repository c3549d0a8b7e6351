"""A real Celery worker process runs a task sent through a real broker."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from celery import Celery

from tests.conftest import REQUIRE_SERVICES

ROOT = Path(__file__).resolve().parents[2]


def _start_worker(env_overrides: dict) -> subprocess.Popen:
    env = {**os.environ, **env_overrides}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(worker: subprocess.Popen) -> str:
    os.killpg(worker.pid, signal.SIGTERM)
    try:
        out, _ = worker.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        out, _ = worker.communicate()
    return out.decode(errors="replace")


def _ping_through(app: Celery, worker: subprocess.Popen) -> int:
    started = time.monotonic()
    result = app.send_task("common.ping", args=[41])
    try:
        return result.get(timeout=60)
    finally:
        print(f"round trip {time.monotonic() - started:.2f}s")
        assert worker.poll() is None, "the worker died"


@pytest.fixture(autouse=True)
def _probe_uses_its_own_broker(monkeypatch):
    # Celery lets CELERY_BROKER_URL in the environment override the app's own broker;
    # CI sets it, so the probe apps below would silently talk to another broker.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.delenv("CELERY_RESULT_BACKEND", raising=False)


def test_worker_runs_a_task_on_the_filesystem_broker(tmp_path):
    folders = {name: tmp_path / name for name in ("queue", "processed", "results", "control")}
    for folder in folders.values():
        folder.mkdir()
    app = Celery(
        "probe",
        broker="filesystem://",
        backend=f"file://{folders['results']}",
        broker_transport_options={
            "data_folder_in": str(folders["queue"]),
            "data_folder_out": str(folders["queue"]),
            "processed_folder": str(folders["processed"]),
            "control_folder": str(folders["control"]),
            "polling_interval": 0.2,
        },
    )
    worker = _start_worker(
        {
            "CELERY_BROKER_URL": "filesystem://",
            "CELERY_FILESYSTEM_DIR": str(tmp_path),
            "CELERY_RESULT_BACKEND": f"file://{folders['results']}",
        }
    )
    try:
        assert _ping_through(app, worker) == 42
    finally:
        _stop(worker)


def test_worker_runs_a_task_on_redis():
    url = "redis://127.0.0.1:6379/14"
    try:
        redis.Redis.from_url(url).ping()
    except redis.ConnectionError:
        if REQUIRE_SERVICES:
            pytest.fail("Redis is required in CI but not reachable at 127.0.0.1:6379")
        pytest.skip("needs Redis at 127.0.0.1:6379")
    redis.Redis.from_url(url).flushdb()
    app = Celery("probe", broker=url, backend=url)
    worker = _start_worker({"CELERY_BROKER_URL": url, "CELERY_RESULT_BACKEND": url})
    try:
        assert _ping_through(app, worker) == 42
    finally:
        _stop(worker)
