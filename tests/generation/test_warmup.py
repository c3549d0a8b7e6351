"""The warm-ups leave built what a submit, and a render with its checks, use: neither
builds a model afterwards."""

from __future__ import annotations

import threading
from collections import OrderedDict

import pytest

from generation import (
    RenderRequest,
    checks,
    identity,
    render_checked,
    studio,
    style_by_slug,
    vision,
    warmup,
)
from generation.inspection import inspect_upload


class CountingLock:
    """Stands in for vision's build lock, which only a model build takes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.taken = 0

    def __enter__(self) -> None:
        self.taken += 1
        self.lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


@pytest.fixture
def cold(monkeypatch) -> CountingLock:
    """A process with no model built yet; returns the lock that counts builds."""
    monkeypatch.setattr(vision, "_models", {})
    monkeypatch.setattr(vision, "_model_locks", {})
    monkeypatch.setattr(identity, "_net", None)
    monkeypatch.setattr(identity, "_ran", False)
    builds = CountingLock()
    monkeypatch.setattr(vision, "_lock", builds)
    return builds


def test_after_the_submit_warm_up_an_inspection_builds_nothing(cold, faces) -> None:
    warmup.submit_models_warm()
    assert cold.taken == len(vision.SUBMIT_MODELS)
    inspection = inspect_upload(faces["obama"])
    assert inspection.faces == 1
    assert cold.taken == len(vision.SUBMIT_MODELS)


def test_a_second_warm_up_builds_nothing(cold) -> None:
    warmup.render_models_warm()
    built = dict(vision._models)
    warmup.render_models_warm()
    assert cold.taken == len(vision.RENDER_MODELS)
    assert all(vision._models[name] is built[name] for name in vision.RENDER_MODELS)


def test_after_the_render_warm_up_a_checked_render_builds_nothing(cold, faces, monkeypatch) -> None:
    warmup.render_models_warm()
    assert identity._net is not None

    def no_second_load(*args: object) -> None:
        raise AssertionError("FaceNet loaded again")

    monkeypatch.setattr(identity.cv2.dnn, "readNetFromTensorflow", no_second_load)
    monkeypatch.setattr(checks, "_SOURCE_EMBEDDINGS", OrderedDict())
    studio._prepared_cache.clear()  # the render analyses and segments the upload afresh
    request = RenderRequest(source=faces["obama"], style=style_by_slug("corporate"))
    result = render_checked(studio.StudioEngine(), request)
    assert result.attempts >= 1
    assert cold.taken == len(vision.RENDER_MODELS)
