"""render_checked: rejected images are rendered again with a new seed, up to the limit."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from generation import CheckFailed, RenderRequest, quality_score, render_checked, style_by_slug
from generation.imaging import encode_image, load_rgb_array
from generation.interface import Availability, RenderedImage


class ScriptedEngine:
    """Returns the given photos in turn, and records the seeds it was asked for."""

    name = "scripted"
    description = "test engine"

    def __init__(self, outputs: list[bytes]) -> None:
        self.outputs = list(outputs)
        self.seeds: list[int] = []

    def availability(self) -> Availability:
        return Availability(True)

    def render(self, request: RenderRequest) -> list[RenderedImage]:
        self.seeds.append(request.seed)
        data = self.outputs.pop(0)
        return [RenderedImage(data, "jpeg", "image/jpeg", 10, 10, request.seed, self.name, "m", {})]


def _request(source: bytes) -> RenderRequest:
    return RenderRequest(source=source, style=style_by_slug("corporate"), seed=5)


def test_matching_result_is_accepted_first_time(faces: dict[str, bytes]) -> None:
    engine = ScriptedEngine([faces["obama2"]])
    result = render_checked(engine, _request(faces["obama"]))
    assert result.attempts == 1
    assert result.images[0].identity > 0.6
    assert result.images[0].image.metadata["checks"]["passed"] is True


def test_wrong_person_is_rerendered_with_a_new_seed_then_accepted(faces: dict[str, bytes]) -> None:
    engine = ScriptedEngine([faces["biden"], faces["obama3"]])
    result = render_checked(engine, _request(faces["obama"]))
    assert result.attempts == 2
    assert engine.seeds[0] == 5 and engine.seeds[1] != 5
    assert len(result.rejected) == 1 and result.rejected[0]["passed"] is False
    assert result.images[0].attempts == 2


def test_gives_up_after_max_attempts_with_a_clear_error(faces: dict[str, bytes]) -> None:
    engine = ScriptedEngine([faces["biden"]] * 3)
    with pytest.raises(CheckFailed) as caught:
        render_checked(engine, _request(faces["obama"]), max_attempts=3)
    assert caught.value.code == "identity_mismatch"
    assert len(engine.seeds) == 3 and len(set(engine.seeds)) == 3
    assert len(caught.value.rejected) == 3


def test_sharp_photo_scores_higher_quality_than_a_blurred_copy(astronaut_png: bytes) -> None:
    blurred = encode_image(cv2.GaussianBlur(load_rgb_array(astronaut_png), (0, 0), 5), "png")
    assert quality_score(astronaut_png) > quality_score(blurred) + 25


def test_quality_score_is_between_0_and_100(cat_png: bytes) -> None:
    assert 0 <= quality_score(cat_png) <= 100
    assert 0 <= quality_score(np.zeros((200, 200, 3), np.uint8)) <= 100


def test_the_upload_is_analysed_once_for_a_whole_batch(faces: dict[str, bytes], monkeypatch):
    from generation import checks

    analysed = []
    real = checks.analyse_faces
    monkeypatch.setattr(checks, "_SOURCE_EMBEDDINGS", type(checks._SOURCE_EMBEDDINGS)())
    monkeypatch.setattr(checks, "analyse_faces", lambda array: analysed.append(1) or real(array))
    engine = ScriptedEngine([faces["obama2"], faces["obama3"]] * 2)
    for _ in range(2):  # a batch of two images, then the same upload's next batch
        render_checked(engine, replace(_request(faces["obama"]), count=2))
    assert len(analysed) == 1 + 4  # the upload once, each of the four results once


def test_the_uploads_embedding_from_a_reduced_decode_matches_the_full_decode() -> None:
    from generation import checks
    from generation.identity import cosine

    from .test_studio_prepare import phone_photo

    photo = phone_photo()
    array = load_rgb_array(photo)
    full = checks._embedding(array, checks.analyse_faces(array))
    assert cosine(full, checks.source_embedding(photo)) > 0.99
