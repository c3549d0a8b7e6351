"""Shared fixtures for the generation tests: real photos only (skimage's astronaut and
the face_recognition 1.3.0 test images fetched by scripts/fetch_test_assets.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from skimage import data

from generation.imaging import encode_image, load_rgb_array

FACES_DIR = Path(__file__).resolve().parents[1] / "assets" / "downloaded" / "faces"


def face_photo(name: str) -> bytes:
    """A real face photo; fails (never skips) when the assets were not fetched."""
    path = FACES_DIR / name
    if not path.is_file():
        pytest.fail(
            f"missing test photo {path}. Run `.venv/bin/python scripts/fetch_test_assets.py` "
            "(the Makefile's test target does this) to download them."
        )
    return path.read_bytes()


@pytest.fixture(scope="session")
def astronaut_png() -> bytes:
    return encode_image(data.astronaut(), "png")


@pytest.fixture(scope="session")
def astronaut_jpeg() -> bytes:
    return encode_image(data.astronaut(), "jpeg")


@pytest.fixture(scope="session")
def cat_png() -> bytes:
    return encode_image(data.chelsea(), "png")


@pytest.fixture(scope="session")
def faces() -> dict[str, bytes]:
    return {name: face_photo(f"{name}.jpg") for name in ("obama", "obama2", "obama3", "biden")}


def side_by_side(*photos: bytes, height: int = 800) -> bytes:
    """Several photos pasted next to each other at one height (a two-person photo)."""
    import cv2

    parts = []
    for photo in photos:
        array = load_rgb_array(photo)
        width = round(array.shape[1] * height / array.shape[0])
        parts.append(cv2.resize(array, (width, height), interpolation=cv2.INTER_AREA))
    return encode_image(np.hstack(parts), "jpeg")
