"""gunicorn.conf.py: production's worker shape, and face models built at worker start."""

import runpy
from pathlib import Path

from generation import vision, warmup

CONF = Path(__file__).resolve().parents[1] / "gunicorn.conf.py"


class _Log:
    def __init__(self):
        self.errors = []

    def exception(self, message):
        self.errors.append(message)


class _Worker:
    def __init__(self):
        self.log = _Log()


def _hook():
    return runpy.run_path(str(CONF))["post_worker_init"]


def test_workers_are_threaded():
    conf = runpy.run_path(str(CONF))
    assert (conf["worker_class"], conf["threads"]) == ("gthread", 4)


def test_the_file_sets_no_bind_or_worker_count():
    """The command line wins in gunicorn anyway; the bench and the deploy set these."""
    settings = {k for k in runpy.run_path(str(CONF)) if not k.startswith("__")}
    assert not settings & {"bind", "workers"}


def test_a_starting_worker_calls_the_submit_warm_up(monkeypatch):
    calls = []
    monkeypatch.setattr(warmup, "submit_models_warm", lambda: calls.append(1))
    worker = _Worker()
    _hook()(worker)
    assert calls == [1]
    assert worker.log.errors == []


def test_a_starting_worker_builds_the_submit_models(monkeypatch):
    monkeypatch.setattr(vision, "_models", {})
    monkeypatch.setattr(vision, "_model_locks", {})
    _hook()(_Worker())
    assert set(vision._models) == set(vision.SUBMIT_MODELS)


def test_a_failed_warm_up_is_logged_and_the_worker_still_starts(monkeypatch):
    def broken():
        raise RuntimeError("no models here")

    monkeypatch.setattr(warmup, "submit_models_warm", broken)
    worker = _Worker()
    _hook()(worker)
    assert len(worker.log.errors) == 1
