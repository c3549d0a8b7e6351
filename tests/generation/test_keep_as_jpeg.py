"""The upload we keep: the member's own pixels, no metadata, upright, always decodable."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from skimage import data

from generation.errors import BadImage
from generation.imaging import keep_as_jpeg, load_for_analysis, load_image
from generation.jpeg import NotAJpeg, strip_metadata

GPS_IFD = 0x8825


def _phone_jpeg(*, orientation: int = 1, progressive: bool = False, trailer: bytes = b"") -> bytes:
    """A JPEG as a phone writes it: EXIF with GPS, XMP, a comment, an ICC profile."""
    image = Image.fromarray(data.astronaut())
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(GPS_IFD)[2] = (51.0, 30.0, 0.0)  # latitude
    buffer = io.BytesIO()
    image.save(
        buffer,
        "JPEG",
        quality=90,
        exif=exif.tobytes(),
        xmp=b"<x:xmpmeta>secret place</x:xmpmeta>",
        comment=b"owner: Jane Member",
        icc_profile=b"\x00" * 128 + b"ICC",
        progressive=progressive,
    )
    return buffer.getvalue() + trailer


def _pixels(jpeg: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"))


@pytest.mark.parametrize("progressive", [False, True])
def test_an_upright_jpeg_keeps_its_pixels_and_loses_its_metadata(progressive: bool) -> None:
    upload = _phone_jpeg(progressive=progressive)
    kept = keep_as_jpeg(upload)
    assert np.array_equal(_pixels(kept), _pixels(upload))  # not re-encoded
    reopened = Image.open(io.BytesIO(kept))
    assert not reopened.getexif()
    assert "exif" not in reopened.info and "xmp" not in reopened.info
    assert "comment" not in reopened.info
    for secret in (b"PhoneMaker", b"secret place", b"Jane Member", b"Exif\x00\x00"):
        assert secret not in kept
    assert reopened.info.get("icc_profile", b"").endswith(b"ICC")  # colours keep their meaning


def test_a_video_appended_after_the_picture_is_not_kept() -> None:
    upload = _phone_jpeg(trailer=b"\x00\x00\x00\x18ftypmp42" + b"motion photo" * 1000)
    kept = keep_as_jpeg(upload)
    assert kept.endswith(b"\xff\xd9") and b"motion photo" not in kept
    assert np.array_equal(_pixels(kept), _pixels(upload))


def test_a_turned_jpeg_is_stored_upright_without_exif() -> None:
    upload = _phone_jpeg(orientation=6)
    kept = keep_as_jpeg(upload)
    image = Image.open(io.BytesIO(kept))
    assert image.size == (512, 512) or image.size == load_image(upload).size
    assert not image.getexif() and b"PhoneMaker" not in kept
    # the same picture as the upright decode of the upload (re-encoded once, so close)
    difference = np.abs(_pixels(kept).astype(int) - np.asarray(load_image(upload)).astype(int))
    assert difference.mean() < 3


def test_a_turned_non_square_jpeg_is_stored_turned() -> None:
    image = Image.fromarray(data.astronaut()).crop((0, 0, 512, 300))
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    assert Image.open(io.BytesIO(keep_as_jpeg(buffer.getvalue()))).size == (300, 512)


def test_a_png_is_stored_as_a_jpeg() -> None:
    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, "PNG")
    kept = keep_as_jpeg(buffer.getvalue())
    assert Image.open(io.BytesIO(kept)).format == "JPEG"


def test_a_cmyk_jpeg_is_stored_as_rgb() -> None:
    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).convert("CMYK").save(buffer, "JPEG")
    assert Image.open(io.BytesIO(keep_as_jpeg(buffer.getvalue()))).mode == "RGB"


def test_a_truncated_jpeg_is_refused_not_kept() -> None:
    upload = _phone_jpeg()
    with pytest.raises(BadImage) as caught:
        keep_as_jpeg(upload[: len(upload) * 2 // 3])
    assert caught.value.code == "not_an_image"


def test_an_iphone_style_mpo_is_a_photo_not_an_animation() -> None:
    """iPhone JPEGs carry an HDR gain map as a second MPO picture: Pillow calls that
    'animated'; refusing it refused ordinary phone photos."""
    first = Image.fromarray(data.astronaut())
    buffer = io.BytesIO()
    first.save(buffer, "MPO", save_all=True, append_images=[first.resize((128, 128))])
    upload = buffer.getvalue()
    assert Image.open(io.BytesIO(upload)).format == "MPO"
    assert load_image(upload).size == (512, 512)
    kept = keep_as_jpeg(upload)
    reopened = Image.open(io.BytesIO(kept))
    assert reopened.format == "JPEG" and getattr(reopened, "n_frames", 1) == 1
    assert len(kept) < len(upload)


def test_an_animated_gif_is_still_refused() -> None:
    frames = [Image.new("RGB", (100, 100), colour) for colour in ("red", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    with pytest.raises(BadImage) as caught:
        keep_as_jpeg(buffer.getvalue())
    assert caught.value.code == "animated"


def test_stripping_refuses_what_is_not_a_jpeg_structure() -> None:
    with pytest.raises(NotAJpeg):
        strip_metadata(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(NotAJpeg):
        strip_metadata(b"\xff\xd8\xff\xe1\x00\x40short")
    upload = _phone_jpeg()
    with pytest.raises(NotAJpeg):
        strip_metadata(upload[:-2])  # no end of image


def test_analysis_copy_is_reduced_and_knows_the_full_upright_size() -> None:
    image = Image.fromarray(data.astronaut()).resize((3000, 2000))
    exif = Image.Exif()
    exif[0x0112] = 8
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    small, full = load_for_analysis(buffer.getvalue(), 1440)
    assert full == (2000, 3000)
    assert 1440 <= max(small.size) < 3000 and small.height > small.width


def test_damaged_jpegs_are_refused_cleanly_never_with_another_error() -> None:
    import random

    upload = _phone_jpeg()
    rng = random.Random(7)
    for _ in range(150):
        damaged = bytearray(upload)
        for _ in range(rng.randint(1, 8)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        if rng.random() < 0.3:
            damaged = damaged[: rng.randrange(len(damaged))]
        try:
            kept = keep_as_jpeg(bytes(damaged))
        except BadImage:
            continue
        assert Image.open(io.BytesIO(kept)).format == "JPEG"
