"""gunicorn.conf.py and the Celery worker: production's worker shape, and the models built
when a worker process starts."""

import runpy
from pathlib import Path

import pytest

from generation import vision

CONF = Path(__file__).resolve().parents[1] / "gunicorn.conf.py"


class _Log:
    def __init__(self):
        self.errors = []

    def exception(self, message):
        self.errors.append(message)


class _Worker:
    def __init__(self):
        self.log = _Log()


def test_workers_are_threaded():
    conf = runpy.run_path(str(CONF))
    assert (conf["worker_class"], conf["threads"]) == ("gthread", 4)


def test_a_starting_worker_builds_the_submit_models(monkeypatch):
    monkeypatch.setattr(vision, "_models", {})
    monkeypatch.setattr(vision, "_model_locks", {})
    worker = _Worker()
    runpy.run_path(str(CONF))["post_worker_init"](worker)
    assert set(vision._models) == set(vision.SUBMIT_MODELS)
    assert worker.log.errors == []


def test_warming_twice_builds_nothing_again():
    vision.models_warm()
    built = dict(vision._models)
    vision.models_warm()
    assert all(vision._models[name] is built[name] for name in vision.SUBMIT_MODELS)


def test_a_failed_warm_up_is_logged_and_the_worker_still_starts(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("no models here")

    monkeypatch.setattr(vision, "models_warm", broken)
    worker = _Worker()
    runpy.run_path(str(CONF))["post_worker_init"](worker)
    assert len(worker.log.errors) == 1


@pytest.mark.parametrize("name", vision.RENDER_MODELS)
def test_every_named_model_can_be_warmed(name):
    vision.models_warm((name,))
    assert name in vision._models


def test_each_celery_worker_process_builds_the_render_models_as_it_starts(monkeypatch):
    from celery.signals import worker_process_init

    warmed = []
    monkeypatch.setattr(vision, "models_warm", lambda names: warmed.append(names))
    worker_process_init.send(sender=None)
    assert warmed == [vision.RENDER_MODELS]
