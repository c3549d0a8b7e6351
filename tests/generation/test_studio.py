"""The studio engine on a real photo: framing, sizes, formats, determinism, variations,
edges without a halo, padding with backdrop."""

from __future__ import annotations

import io
from dataclasses import replace

import cv2
import numpy as np
import pytest
from PIL import Image

from generation import NoFace, RenderRequest, StyleSpec, style_by_slug
from generation.framing import EYE_LINE, MAX_ZOOM, effective_face_share
from generation.imaging import encode_image, load_rgb_array
from generation.studio import StudioEngine
from generation.vision import analyse_faces

ENGINE = StudioEngine()
ALL_RATIOS = ("1:1", "3:4", "4:5", "4:3", "16:9", "9:16")


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(np.int16)


@pytest.mark.parametrize("slug", ["linkedin", "editorial"])
@pytest.mark.parametrize("ratio", ALL_RATIOS)
def test_framing_puts_eyes_on_the_line_and_face_at_the_style_share(
    astronaut_png: bytes, slug: str, ratio: str
) -> None:
    style = style_by_slug(slug)
    [image] = ENGINE.render(RenderRequest(source=astronaut_png, style=style, aspect_ratio=ratio))
    landmarks = analyse_faces(load_rgb_array(image.data)).landmarks
    assert landmarks is not None
    eye_line = float(landmarks.eye_center[1]) / image.height
    face_share = landmarks.face_height / image.height
    # The style's share, tightened by the recorded zoom when the photo is too narrow or
    # too short for the frame (a wide frame from a square photo).
    zoom = image.metadata["changed"]["framing"]["zoom"]
    assert 1.0 <= zoom <= MAX_ZOOM
    expected_share = effective_face_share(style.framing, image.width, image.height) * zoom
    assert eye_line == pytest.approx(EYE_LINE, abs=0.025)
    assert face_share == pytest.approx(expected_share, rel=0.08)


@pytest.mark.parametrize("ratio", ["1:1", "3:4", "4:5"])
def test_headshot_ratios_use_the_style_share_unchanged(astronaut_png: bytes, ratio: str) -> None:
    [image] = ENGINE.render(
        RenderRequest(source=astronaut_png, style=style_by_slug("corporate"), aspect_ratio=ratio)
    )
    assert image.metadata["changed"]["framing"]["zoom"] == 1.0


def test_wide_frame_from_a_square_photo_zooms_instead_of_cutting_the_body(
    astronaut_png: bytes,
) -> None:
    [image] = ENGINE.render(
        RenderRequest(source=astronaut_png, style=style_by_slug("editorial"), aspect_ratio="16:9")
    )
    framing = image.metadata["changed"]["framing"]
    assert framing["zoom"] > 1.0
    assert (
        not {"left", "right"} & set(framing["padded_with_backdrop"]) or framing["zoom"] == MAX_ZOOM
    )


def test_linkedin_frames_tighter_than_editorial(astronaut_png: bytes) -> None:
    shares = {}
    for slug in ("linkedin", "editorial"):
        [image] = ENGINE.render(RenderRequest(source=astronaut_png, style=style_by_slug(slug)))
        shares[slug] = image.metadata["changed"]["framing"]["face_share"]
    assert shares["linkedin"] > shares["editorial"] * 1.4


@pytest.mark.parametrize(
    ("quality", "ratio", "size"),
    [
        ("standard", "1:1", (1024, 1024)),
        ("standard", "3:4", (768, 1024)),
        ("standard", "4:5", (819, 1024)),
        ("high", "4:3", (1536, 1152)),
        ("high", "16:9", (1536, 864)),
        ("ultra", "9:16", (1152, 2048)),
    ],
)
def test_output_size_follows_quality_and_ratio(
    astronaut_png: bytes, quality: str, ratio: str, size: tuple[int, int]
) -> None:
    request = RenderRequest(
        source=astronaut_png, style=style_by_slug("corporate"), aspect_ratio=ratio, quality=quality
    )
    [image] = ENGINE.render(request)
    assert (image.width, image.height) == size
    assert Image.open(io.BytesIO(image.data)).size == size


@pytest.mark.parametrize(("fmt", "pil_format", "mime"), [("jpeg", "JPEG", "image/jpeg"),
                                                         ("webp", "WEBP", "image/webp"),
                                                         ("png", "PNG", "image/png")])  # fmt: skip
def test_output_format_mime_and_no_exif(
    astronaut_jpeg: bytes, fmt: str, pil_format: str, mime: str
) -> None:
    request = RenderRequest(
        source=astronaut_jpeg, style=style_by_slug("medical"), output_format=fmt
    )
    [image] = ENGINE.render(request)
    decoded = Image.open(io.BytesIO(image.data))
    assert decoded.format == pil_format
    assert image.mime == mime
    assert len(decoded.getexif()) == 0


def test_jpeg_output_is_300_dpi(astronaut_png: bytes) -> None:
    [image] = ENGINE.render(RenderRequest(source=astronaut_png, style=style_by_slug("legal")))
    assert tuple(round(v) for v in Image.open(io.BytesIO(image.data)).info["dpi"]) == (300, 300)


def test_same_seed_gives_identical_bytes(astronaut_png: bytes) -> None:
    request = RenderRequest(
        source=astronaut_png, style=style_by_slug("executive"), seed=42, variation=2
    )
    assert ENGINE.render(request)[0].data == ENGINE.render(request)[0].data


def test_each_variation_in_a_batch_differs_visibly(astronaut_png: bytes) -> None:
    batch = ENGINE.render(
        RenderRequest(source=astronaut_png, style=style_by_slug("corporate"), seed=9, count=4)
    )
    pixels = [_pixels(image.data) for image in batch]
    for i in range(len(pixels)):
        for j in range(i + 1, len(pixels)):
            assert np.abs(pixels[i] - pixels[j]).mean() > 6.0, (i, j)


def test_variation_metadata_records_its_index(astronaut_png: bytes) -> None:
    batch = ENGINE.render(
        RenderRequest(source=astronaut_png, style=style_by_slug("actor"), count=3, variation=1)
    )
    assert [image.metadata["variation"] for image in batch] == [1, 2, 3]


def test_metadata_says_what_changed_and_what_did_not(astronaut_png: bytes) -> None:
    [image] = ENGINE.render(
        RenderRequest(source=astronaut_png, style=style_by_slug("casual-professional"))
    )
    assert image.engine == "studio"
    assert image.metadata["engine"] == "studio"
    assert image.metadata["generative"] is False
    assert {"framing", "backdrop", "lighting", "skin retouch (face only)"} <= set(
        image.metadata["changes"]
    )
    assert {"clothes", "pose", "expression"} <= set(image.metadata["unchanged"])
    assert "does not change clothes, pose or expression" in image.metadata["note"]


def test_a_cat_is_refused_as_no_face(cat_png: bytes) -> None:
    with pytest.raises(NoFace) as caught:
        ENGINE.render(RenderRequest(source=cat_png, style=style_by_slug("corporate")))
    assert caught.value.code == "no_face"


def test_no_light_halo_against_a_dark_backdrop(astronaut_png: bytes) -> None:
    style = StyleSpec(
        "dark", "Dark", "", backdrop="brand", brand_color="#161616", light="flat", grade="neutral"
    )
    composition = ENGINE.compose(RenderRequest(source=astronaut_png, style=style))
    person = (composition.alpha >= 128).astype(np.uint8)
    near = cv2.dilate(person, np.ones((3, 3), np.uint8))
    far = cv2.dilate(person, np.ones((11, 11), np.uint8))
    band = (far - near).astype(bool)  # a thin ring 2-5 px outside the person's edge
    luminance = cv2.cvtColor(composition.work_image, cv2.COLOR_RGB2GRAY).astype(np.float64)
    backdrop = cv2.cvtColor(composition.backdrop, cv2.COLOR_RGB2GRAY).astype(np.float64)
    assert band.sum() > 1000
    assert luminance[band].mean() - backdrop[band].mean() < 6.0


def test_brand_backdrop_shows_the_team_colour(astronaut_png: bytes) -> None:
    style = StyleSpec("brand", "Brand", "", backdrop="brand", brand_color="#1F6FEB")
    composition = ENGINE.compose(RenderRequest(source=astronaut_png, style=style))
    corner = composition.image[:40, :40].reshape(-1, 3).mean(axis=0)
    assert corner[2] > corner[0] + 60  # clearly blue


def test_custom_backdrop_image_is_used(astronaut_png: bytes) -> None:
    stripes = np.zeros((400, 600, 3), np.uint8)
    stripes[:, :, 1] = 200  # a green wall
    style = StyleSpec(
        "custom", "Custom", "", backdrop="custom", custom_backdrop=encode_image(stripes, "png")
    )
    composition = ENGINE.compose(RenderRequest(source=astronaut_png, style=style))
    corner = composition.image[:40, :40].reshape(-1, 3).mean(axis=0)
    assert corner[1] > 150 and corner[0] < 60


def test_too_tight_photo_is_padded_with_backdrop_not_stretched(astronaut_png: bytes) -> None:
    tight = encode_image(load_rgb_array(astronaut_png)[40:330, 120:330], "png")  # hair near the top
    style = StyleSpec("w", "White", "", backdrop="white", framing=0.22)
    composition = ENGINE.compose(RenderRequest(source=tight, style=style, aspect_ratio="1:1"))
    assert {"left", "right"} <= set(composition.crop.padded)
    left_strip = composition.image[:, :20].astype(np.int16)
    # Backdrop, not repeated edge pixels: near-white and nearly flat along each row.
    assert left_strip.mean() > 200
    assert np.abs(np.diff(left_strip, axis=1)).mean() < 3


def test_reusing_a_request_with_another_style_changes_the_look(astronaut_png: bytes) -> None:
    request = RenderRequest(source=astronaut_png, style=style_by_slug("corporate"))
    white = _pixels(ENGINE.render(request)[0].data)
    dark = _pixels(ENGINE.render(replace(request, style=style_by_slug("cinematic")))[0].data)
    assert np.abs(white - dark).mean() > 20


def test_metadata_is_json_serialisable(astronaut_png: bytes) -> None:
    import json

    [image] = ENGINE.render(RenderRequest(source=astronaut_png, style=style_by_slug("model")))
    assert json.loads(json.dumps(image.metadata))["style"] == "model"


def test_renders_from_two_threads_match_serial_renders(faces: dict[str, bytes]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    requests = [
        RenderRequest(source=faces[name], style=style_by_slug("corporate"), seed=3)
        for name in ("obama2", "biden")
    ]
    serial = [ENGINE.render(request)[0].data for request in requests]
    with ThreadPoolExecutor(max_workers=2) as pool:
        parallel = [result[0].data for result in pool.map(ENGINE.render, requests)]
    assert parallel == serial
