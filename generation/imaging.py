"""Safe decoding and encoding: every image that enters or leaves the package passes here.

Decoding checks the declared size before any pixel is decoded (image bombs), honours the
EXIF orientation, refuses animations and normalises every mode to 8-bit RGB. Encoding
writes 300 DPI and never copies EXIF (it can carry GPS and camera serials).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import BadImage
from .interface import OUTPUT_FORMATS
from .jpeg import NotAJpeg, strip_metadata

MAX_PIXELS = 50_000_000  # ~8K x 6K; far above any phone photo, far below a decompression bomb
MAX_BYTES = 40 * 1024 * 1024
MIN_SIDE = 64
ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "MPO", "TIFF", "BMP", "HEIF", "GIF"})
DPI = 300
JPEG_QUALITY = 90
WEBP_QUALITY = 90
WEBP_METHOD = 1  # method 4+ costs 100+ ms at 1024 px for no visible gain
# WebP has no density field; XMP carries it so no EXIF block is needed.
_WEBP_XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:tiff="http://ns.adobe.com/tiff/1.0/" '
    b'tiff:XResolution="300/1" tiff:YResolution="300/1" tiff:ResolutionUnit="2"/>'
    b"</rdf:RDF></x:xmpmeta>"
)

# Pillow's own bomb guard, set to ours so it also covers code paths we do not see.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


def load_image(data: bytes) -> Image.Image:
    """Decode upload bytes into an upright 8-bit RGB image, or raise BadImage."""
    image = _open_checked(data)
    _decode(image)
    return _upright_rgb(image)


def load_for_analysis(data: bytes, long_side: int) -> tuple[Image.Image, tuple[int, int]]:
    """Upright RGB at no less than `long_side` on the long side (or the full size when it
    is smaller), and the upright full size: `load_reduced` at the coarsest scale that
    keeps `long_side`, so the upload's inspection and the render's analysis see the same
    copy of a photo."""
    image, size, _reduction = load_reduced(data, DCT_REDUCTIONS[0], long_side)
    return image, size


DCT_REDUCTIONS = (8, 4, 2, 1)  # what libjpeg decodes a JPEG at, coarsest first


def load_reduced(
    data: bytes, max_reduction: int, min_long_side: int = 0
) -> tuple[Image.Image, tuple[int, int], int]:
    """Upright RGB decoded at the coarsest of 1/8, 1/4, 1/2 or full size that is no
    coarser than 1/`max_reduction` and keeps at least `min_long_side` on the long side;
    the upright full size; and the reduction used. A JPEG is reduced by libjpeg itself
    (DCT scaling, several times faster than a full decode: decoded pixel i covers
    full-size pixels [i*r, (i+1)*r)); any other format decodes in full and answers 1."""
    image = _open_checked(data)
    width, height = image.size
    reduction = next(
        (
            r
            for r in DCT_REDUCTIONS
            if r <= max_reduction and max(width, height) / r >= min_long_side
        ),
        1,
    )
    used = 1
    if image.format in ("JPEG", "MPO") and reduction > 1:
        drafted = image.draft("RGB", (max(1, width // reduction), max(1, height // reduction)))
        if drafted is not None:
            used = max(1, round(width / drafted[1][2]))
    _decode(image)
    upright = _upright_rgb(image)
    turned = upright.size != image.size
    return upright, (height, width) if turned else (width, height), used


def keep_as_jpeg(data: bytes, *, decoded: bool = False, quality: int = 92) -> bytes:
    """The upload as we keep it: upright RGB JPEG with no EXIF (GPS) or other metadata.
    An upright RGB JPEG keeps its own pixels byte for byte (metadata cut out, checked
    by a reduced-scale decode unless `decoded`: the caller has already decoded these
    bytes without error, as a passed inspection has); anything else is decoded and
    encoded once."""
    image = _open_checked(data)
    if image.format in ("JPEG", "MPO") and image.mode == "RGB" and _orientation(image) == 1:
        try:
            kept = strip_metadata(bytes(data))
        except NotAJpeg:
            kept = None
        if kept is not None and decoded:
            return kept
        if kept is not None:
            check = _open_checked(kept)
            check.draft("RGB", (max(1, check.width // 8), max(1, check.height // 8)))
            _decode(check)
            return kept
    _decode(image)
    buffer = io.BytesIO()
    _upright_rgb(image).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def _open_checked(data: bytes) -> Image.Image:
    """Open (header only) and refuse what we never decode: empty, huge, bombs, formats
    we do not take, animations."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise BadImage("Expected image bytes.", code="not_an_image")
    if len(data) == 0:
        raise BadImage("The file is empty.", code="not_an_image")
    if len(data) > MAX_BYTES:
        raise BadImage("The file is larger than 40 MB.", code="file_too_large")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(bytes(data)))
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise BadImage(
                    "The image has too many pixels (over 50 megapixels).", code="image_too_large"
                )
            if image.format not in ALLOWED_FORMATS:
                raise BadImage(
                    "Please upload a JPEG, PNG or WebP photo.", code="unsupported_format"
                )
            # An MPO's further frames are a preview or an HDR gain map (iPhone JPEGs), not
            # an animation: we use the first, like every photo viewer.
            animated = getattr(image, "is_animated", False) and getattr(image, "n_frames", 1) > 1
            if animated and image.format != "MPO":
                raise BadImage("Animated images are not supported.", code="animated")
    except BadImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise BadImage("The image has too many pixels.", code="image_too_large") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise BadImage("This file is not an image we can read.", code="not_an_image") from exc
    if min(width, height) < MIN_SIDE:
        raise BadImage("The image is too small to use.", code="image_too_small")
    return image


def _decode(image: Image.Image) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise BadImage("The image has too many pixels.", code="image_too_large") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise BadImage("This file is not an image we can read.", code="not_an_image") from exc


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(0x0112, 1))
    except (OSError, ValueError, KeyError, TypeError, SyntaxError):
        return 0  # unreadable: take the decode-and-encode path, which copes


def _upright_rgb(image: Image.Image) -> Image.Image:
    # A broken orientation tag is not worth refusing the photo for.
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        image = ImageOps.exif_transpose(image) or image
    return to_rgb(image)


def to_rgb(image: Image.Image) -> Image.Image:
    """Any mode (CMYK, 16-bit, palette, alpha) to plain RGB; transparency becomes white."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if array.max() > 255 else 255.0
        grey = np.clip(array * (255.0 / top), 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    if image.mode == "F":
        array = np.asarray(image, dtype=np.float64)
        grey = np.clip(array * (255.0 if array.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa"):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, image).convert("RGB")
    return image.convert("RGB")


def load_rgb_array(data: bytes) -> np.ndarray:
    return np.asarray(load_image(data))


def as_rgb_array(image: Image.Image | np.ndarray | bytes) -> np.ndarray:
    """Accept bytes, a PIL image or an HxWx3 uint8 array; return an RGB uint8 array."""
    if isinstance(image, bytes | bytearray | memoryview):
        return load_rgb_array(bytes(image))
    if isinstance(image, Image.Image):
        return np.asarray(to_rgb(image))
    array = np.asarray(image)
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise BadImage("Expected an RGB image.", code="not_an_image")
    return np.ascontiguousarray(array[:, :, :3].astype(np.uint8, copy=False))


def encode_image(image: Image.Image | np.ndarray, output_format: str) -> bytes:
    """Encode with 300 DPI and no EXIF: JPEG q90, WebP q90 (fast method) or PNG."""
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f"unknown output format {output_format!r}")
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image, "RGB")
    buffer = io.BytesIO()
    if output_format == "jpeg":
        image.save(buffer, "JPEG", quality=JPEG_QUALITY, dpi=(DPI, DPI))
    elif output_format == "webp":
        image.save(buffer, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD, xmp=_WEBP_XMP)
    else:
        # compress_level 3: PNG is the archival choice, but level 6+ is 3x slower.
        image.save(buffer, "PNG", dpi=(DPI, DPI), compress_level=3)
    return buffer.getvalue()


def encode_png(image: Image.Image | np.ndarray) -> bytes:
    return encode_image(image, "png")


def derive_seed(*parts: object) -> int:
    """A stable 31-bit seed from any parts (never Python's randomised hash())."""
    digest = hashlib.sha256("/".join(str(part) for part in parts).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF
