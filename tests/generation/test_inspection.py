"""Upload inspection on real photos: plain reasons a member can act on."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from generation import inspect_upload
from generation.imaging import encode_image, load_rgb_array
from tests.generation.conftest import side_by_side


def _variant(photo: bytes, change) -> bytes:
    return encode_image(change(load_rgb_array(photo)), "png")


def test_a_good_photo_passes(faces: dict[str, bytes]) -> None:
    result = inspect_upload(faces["obama"])
    assert result.ok and result.score >= 90 and result.issues == ()
    assert result.face_box is not None


def test_a_cat_is_refused_as_no_face(cat_png: bytes) -> None:
    result = inspect_upload(cat_png)
    assert not result.ok
    assert "no_face" in result.codes
    assert any("could not find a face" in reason for reason in result.reasons)


def test_not_an_image_is_refused_with_a_reason() -> None:
    result = inspect_upload(b"%PDF-1.4 not a photo")
    assert not result.ok and result.score == 0 and result.codes == ["not_an_image"]


def test_two_people_side_by_side_are_refused(faces: dict[str, bytes]) -> None:
    result = inspect_upload(side_by_side(faces["obama"], faces["biden"]))
    assert not result.ok
    assert "multiple_faces" in result.codes


def test_blurry_photo_is_reported(faces: dict[str, bytes]) -> None:
    result = inspect_upload(_variant(faces["obama"], lambda a: cv2.GaussianBlur(a, (0, 0), 6)))
    assert {"blurry", "very_blurry"} & set(result.codes)
    assert result.score < inspect_upload(faces["obama"]).score


def test_dark_photo_is_reported(faces: dict[str, bytes]) -> None:
    result = inspect_upload(_variant(faces["obama"], lambda a: (a * 0.2).astype(np.uint8)))
    assert "too_dark" in result.codes
    assert "blurry" not in result.codes  # darkness is not mistaken for blur


def test_bright_photo_is_reported(astronaut_png: bytes) -> None:
    result = inspect_upload(
        _variant(astronaut_png, lambda a: np.clip(a.astype(int) + 140, 0, 255).astype(np.uint8))
    )
    assert "too_bright" in result.codes


def test_tiny_image_is_reported(astronaut_png: bytes) -> None:
    result = inspect_upload(
        _variant(astronaut_png, lambda a: cv2.resize(a, (220, 220), interpolation=cv2.INTER_AREA))
    )
    assert not result.ok
    assert "image_too_small" in result.codes


def test_small_face_in_a_large_frame_is_reported(faces: dict[str, bytes]) -> None:
    def shrink(a: np.ndarray) -> np.ndarray:
        canvas = np.full((a.shape[0] * 3, a.shape[1] * 3, 3), 90, np.uint8)
        small = cv2.resize(a, (a.shape[1] // 2, a.shape[0] // 2), interpolation=cv2.INTER_AREA)
        canvas[: small.shape[0], : small.shape[1]] = small
        return canvas

    result = inspect_upload(_variant(faces["obama"], shrink))
    assert "face_too_small" in result.codes


def test_face_cut_off_at_the_edge_is_reported() -> None:
    from tests.generation.conftest import face_photo

    result = inspect_upload(face_photo("obama_partial_face.jpg"))
    assert not result.ok
    assert "face_cut_off" in result.codes


def test_inspection_serialises_for_the_api(cat_png: bytes) -> None:
    import json

    payload = json.loads(json.dumps(inspect_upload(cat_png).as_dict()))
    assert payload["ok"] is False
    assert {"code": "no_face", "blocking": True}.items() <= payload["issues"][-1].items()


def _sunglasses(photo: bytes, colour: tuple[int, int, int]) -> bytes:
    """The same photo with two opaque lenses painted over the eyes, where the mesh finds them."""
    from generation.vision import analyse_faces

    array = load_rgb_array(photo).copy()
    landmarks = analyse_faces(array).landmarks
    for eye in (landmarks.eye_outline_left, landmarks.eye_outline_right):
        (x0, y0), (x1, y1) = eye.min(axis=0), eye.max(axis=0)
        centre = (int((x0 + x1) / 2), int((y0 + y1) / 2))
        axes = (int(0.9 * (x1 - x0)), int(0.7 * (x1 - x0)))  # a lens is nearly round
        cv2.ellipse(array, centre, axes, 0, 0, 360, colour, thickness=-1)
    return encode_image(array, "png")


@pytest.mark.parametrize("name", ["obama", "obama2", "obama3", "biden"])
@pytest.mark.parametrize("colour", [(15, 15, 20), (70, 55, 40)], ids=["black", "brown"])
def test_sunglasses_are_reported_but_do_not_block(faces, name, colour) -> None:
    result = inspect_upload(_sunglasses(faces[name], colour))
    assert "eyes_covered" in result.codes
    assert result.measures["eye_visibility"] < 0.6
    assert not next(issue for issue in result.issues if issue.code == "eyes_covered").blocking


def test_open_eyes_are_not_mistaken_for_sunglasses(faces, astronaut_png) -> None:
    for photo in [*faces.values(), astronaut_png]:
        result = inspect_upload(photo)
        assert "eyes_covered" not in result.codes
        assert result.measures["eye_visibility"] > 0.7


def test_a_dark_photo_is_not_mistaken_for_sunglasses(faces) -> None:
    # The ratio compares the eyes with the cheeks, so darkness alone does not move it.
    result = inspect_upload(_variant(faces["obama"], lambda a: (a * 0.3).astype(np.uint8)))
    assert "eyes_covered" not in result.codes


def test_covered_eyes_never_tip_a_dark_photo_into_refusal(faces) -> None:
    dark = _variant(
        _sunglasses(faces["obama"], (70, 55, 40)), lambda a: (a * 0.35).astype(np.uint8)
    )
    result = inspect_upload(dark)
    assert {"eyes_covered", "too_dark"} <= set(result.codes)
    assert result.ok
