"""`studio.prepare` on a phone-sized JPEG: the analysis runs on a reduced decode and
reports full-size pixels; a frame decodes only the detail its crop needs, and looks
the same as one made from the full decode."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio

from generation import studio, style_by_slug
from generation.imaging import load_image
from generation.vision import analyse_faces

from .conftest import face_photo

PHONE_SIZE = (2400, 3000)


def phone_photo() -> bytes:
    """obama.jpg enlarged to a phone camera's size, as a phone would save it."""
    image = Image.open(io.BytesIO(face_photo("obama.jpg"))).convert("RGB")
    out = io.BytesIO()
    image.resize(PHONE_SIZE, Image.Resampling.LANCZOS).save(out, "JPEG", quality=92)
    return out.getvalue()


@pytest.fixture(scope="module")
def phone_jpeg() -> bytes:
    return phone_photo()


@pytest.fixture(scope="module")
def prepared(phone_jpeg: bytes) -> studio.Prepared:
    return studio.prepare(phone_jpeg)


def test_the_analysis_is_in_full_size_pixels(phone_jpeg: bytes, prepared) -> None:
    full = analyse_faces(np.asarray(load_image(phone_jpeg)))
    assert prepared.size == PHONE_SIZE
    assert full.landmarks is not None
    shift = np.linalg.norm(full.landmarks.points - prepared.landmarks.points, axis=1)
    assert shift.mean() < 0.01 * full.landmarks.face_height


def test_a_frame_gets_the_coarsest_decode_with_enough_detail(prepared) -> None:
    half = prepared.pixels_for(2000.0, 1000)
    assert (half.reduction, half.image.size) == (2, (1200, 1500))
    assert prepared.pixels_for(2000.0, 500) is half  # no new decode for coarser needs
    full = prepared.pixels_for(2000.0, 1500)
    assert (full.reduction, full.image.size) == (1, PHONE_SIZE)
    assert prepared.pixels_for(2000.0, 1200) is full  # decoded once
    assert prepared.pixels_for(2000.0, 1000) is half  # still the cheapest that is enough


@pytest.mark.parametrize(("slug", "ratio"), [("corporate", "1:1"), ("linkedin", "4:5")])
def test_a_frame_from_the_reduced_decode_matches_one_from_the_full_decode(
    phone_jpeg: bytes, monkeypatch, slug: str, ratio: str
) -> None:
    style = style_by_slug(slug)
    size = studio.RenderRequest(source=phone_jpeg, style=style, aspect_ratio=ratio).size
    prepared = studio.prepare(phone_jpeg)
    reduced = studio.compose_portrait(prepared, style, size, seed=1)
    assert prepared.pixels_for(reduced.crop.height, size[1]).reduction == 2
    again = studio.prepare(phone_jpeg)  # the same analysis; its frame decodes in full
    monkeypatch.setattr(studio, "DCT_REDUCTIONS", (1,))
    full = studio.compose_portrait(again, style, size, seed=1)
    assert again.pixels_for(full.crop.height, size[1]).reduction == 1
    assert reduced.crop.height == pytest.approx(full.crop.height, rel=1e-6)
    assert peak_signal_noise_ratio(full.image, reduced.image) > 44.0
