"""Safe decoding and clean encoding."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from generation.errors import BadImage
from generation.imaging import MAX_PIXELS, encode_image, load_image


def _png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _with_ihdr_size(png: bytes, width: int, height: int) -> bytes:
    """The same PNG with the IHDR claiming another size (CRC fixed): a bomb header."""
    ihdr_start = 8 + 8  # signature, then length + type of the first chunk
    ihdr = bytearray(png[ihdr_start : ihdr_start + 13])
    ihdr[0:8] = struct.pack(">II", width, height)
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + bytes(ihdr)) & 0xFFFFFFFF)
    return png[:ihdr_start] + bytes(ihdr) + crc + png[ihdr_start + 17 :]


def test_garbage_bytes_are_refused_as_not_an_image() -> None:
    with pytest.raises(BadImage) as caught:
        load_image(b"this is not a picture at all")
    assert caught.value.code == "not_an_image"


def test_empty_upload_is_refused() -> None:
    with pytest.raises(BadImage):
        load_image(b"")


def test_image_bomb_header_is_refused_before_decoding() -> None:
    small = _png_bytes(Image.new("RGB", (100, 100), "white"))
    bomb = _with_ihdr_size(small, 20_000, 20_000)
    assert MAX_PIXELS < 20_000 * 20_000
    with pytest.raises(BadImage) as caught:
        load_image(bomb)
    assert caught.value.code == "image_too_large"


def test_exif_orientation_is_applied() -> None:
    image = Image.new("RGB", (300, 200), "red")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    assert load_image(buffer.getvalue()).size == (200, 300)


@pytest.mark.parametrize("mode", ["CMYK", "P", "LA", "RGBA", "L"])
def test_other_colour_modes_become_rgb(mode: str) -> None:
    image = Image.new("RGB", (120, 90), (200, 30, 40)).convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, "TIFF" if mode == "CMYK" else "PNG")
    loaded = load_image(buffer.getvalue())
    assert loaded.mode == "RGB"
    assert loaded.size == (120, 90)


def test_sixteen_bit_png_becomes_eight_bit_rgb() -> None:
    ramp = (np.linspace(0, 65535, 128 * 96).reshape(96, 128)).astype(np.uint16)
    buffer = io.BytesIO()
    Image.fromarray(ramp).save(buffer, "PNG")
    assert Image.open(io.BytesIO(buffer.getvalue())).mode.startswith("I")
    loaded = load_image(buffer.getvalue())
    assert loaded.mode == "RGB"
    assert np.asarray(loaded).max() > 200  # scaled, not clipped to black


def test_animated_gif_is_refused() -> None:
    frames = [Image.new("RGB", (80, 80), colour) for colour in ("red", "green", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100)
    with pytest.raises(BadImage) as caught:
        load_image(buffer.getvalue())
    assert caught.value.code == "animated"


def test_tiny_image_is_refused() -> None:
    with pytest.raises(BadImage) as caught:
        load_image(_png_bytes(Image.new("RGB", (20, 20))))
    assert caught.value.code == "image_too_small"


@pytest.mark.parametrize("fmt", ["jpeg", "png"])
def test_encoded_jpeg_and_png_carry_300_dpi(fmt: str) -> None:
    data = encode_image(np.zeros((64, 64, 3), np.uint8), fmt)
    dpi = Image.open(io.BytesIO(data)).info["dpi"]
    assert round(dpi[0]) == 300 and round(dpi[1]) == 300


def test_encoded_webp_carries_300_dpi_in_xmp() -> None:
    data = encode_image(np.zeros((64, 64, 3), np.uint8), "webp")
    image = Image.open(io.BytesIO(data))
    assert image.format == "WEBP"
    assert b'tiff:XResolution="300/1"' in image.info["xmp"]


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
def test_encoding_writes_no_exif_even_from_a_photo_that_had_some(fmt: str) -> None:
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"  # Make
    buffer = io.BytesIO()
    Image.new("RGB", (100, 100), "blue").save(buffer, "JPEG", exif=exif.tobytes())
    data = encode_image(load_image(buffer.getvalue()), fmt)
    image = Image.open(io.BytesIO(data))
    assert "exif" not in image.info
    assert len(image.getexif()) == 0
