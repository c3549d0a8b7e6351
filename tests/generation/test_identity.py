"""Identity similarity on real photos: the same person scores high, different people
low, with a margin on both sides of the default threshold."""

from __future__ import annotations

import itertools

import pytest

from generation import DEFAULT_IDENTITY_THRESHOLD, RenderRequest, style_by_slug
from generation.identity import cosine, face_embedding, identity_similarity
from generation.studio import StudioEngine

MARGIN = 0.08


@pytest.fixture(scope="module")
def embeddings(faces: dict[str, bytes], astronaut_png: bytes) -> dict:
    photos = {**faces, "astronaut": astronaut_png}
    return {name: face_embedding(data) for name, data in photos.items()}


def test_same_person_pairs_score_above_threshold_with_margin(embeddings: dict) -> None:
    for a, b in itertools.combinations(("obama", "obama2", "obama3"), 2):
        score = cosine(embeddings[a], embeddings[b])
        assert score >= DEFAULT_IDENTITY_THRESHOLD + MARGIN, (a, b, score)


def test_different_people_score_below_threshold_with_margin(embeddings: dict) -> None:
    pairs = [(o, "biden") for o in ("obama", "obama2", "obama3")]
    pairs += [(o, "astronaut") for o in ("obama", "obama2", "obama3", "biden")]
    for a, b in pairs:
        score = cosine(embeddings[a], embeddings[b])
        assert score <= DEFAULT_IDENTITY_THRESHOLD - MARGIN, (a, b, score)


def test_no_face_gives_none(cat_png: bytes, astronaut_png: bytes) -> None:
    assert identity_similarity(cat_png, astronaut_png) is None
    assert identity_similarity(astronaut_png, cat_png) is None


def test_embedding_is_unit_length(embeddings: dict) -> None:
    assert cosine(embeddings["obama"], embeddings["obama"]) == pytest.approx(1.0)


def test_studio_result_keeps_the_identity_of_the_upload(faces: dict[str, bytes]) -> None:
    [image] = StudioEngine().render(
        RenderRequest(source=faces["obama"], style=style_by_slug("cinematic"))
    )
    score = identity_similarity(faces["obama"], image.data)
    assert score is not None and score >= DEFAULT_IDENTITY_THRESHOLD + MARGIN
