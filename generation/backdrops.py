"""Backdrops, painted at low resolution (they are smooth) and scaled up, with a fine
seeded grain so gradients never band. All return float32 RGB in 0-1."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .errors import BadImage
from .imaging import load_rgb_array

PAINT_SIDE = 256  # the low-resolution canvas smooth backdrops are painted on


@dataclass(frozen=True)
class BackdropTweak:
    """What a variation changes about the backdrop."""

    tone: float = 0.0  # -1..1, darker..lighter
    hue: float = 0.0  # degrees
    flip: bool = False  # mirror the light falloff


def hex_to_rgb(value: str) -> tuple[float, float, float]:
    text = value.strip().lstrip("#")
    if len(text) == 3:
        text = "".join(ch * 2 for ch in text)
    if len(text) != 6 or any(ch not in "0123456789abcdefABCDEF" for ch in text):
        raise ValueError(f"not a #RRGGBB colour: {value!r}")
    return tuple(int(text[i : i + 2], 16) / 255.0 for i in (0, 2, 4))  # type: ignore[return-value]


def _grid(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Normalised 0-1 x and y coordinates on the low-resolution paint canvas."""
    scale = PAINT_SIDE / max(width, height)
    pw, ph = max(2, round(width * scale)), max(2, round(height * scale))
    ys, xs = np.mgrid[0:ph, 0:pw].astype(np.float32)
    return xs / (pw - 1), ys / (ph - 1)


def _upscale(painted: np.ndarray, width: int, height: int) -> np.ndarray:
    return cv2.resize(painted, (width, height), interpolation=cv2.INTER_LINEAR)


def _shift_tone(color: np.ndarray, tone: float) -> np.ndarray:
    if tone >= 0:
        return color + (1.0 - color) * tone * 0.35
    return color * (1.0 + tone * 0.35)


def _rotate_hue(color: tuple[float, float, float], degrees: float) -> np.ndarray:
    if not degrees:
        return np.array(color, np.float32)
    pixel = (np.array([[color]], np.float32)).astype(np.float32)
    hsv = cv2.cvtColor(pixel, cv2.COLOR_RGB2HSV)
    hsv[..., 0] = (hsv[..., 0] + degrees) % 360.0
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0]


def to_uint8(backdrop: np.ndarray, rng: np.random.Generator, dither: float = 1.5) -> np.ndarray:
    """Quantise a float backdrop to uint8 with a seeded dither of about +-`dither`
    levels, so smooth gradients never show 8-bit bands."""
    height, width = backdrop.shape[:2]
    noise = rng.random((height, width), dtype=np.float32) * (2.0 * dither) - (dither - 0.5)
    return np.clip(backdrop * 255.0 + noise[:, :, None], 0, 255).astype(np.uint8)


def studio_grey(
    width: int, height: int, rng: np.random.Generator, tweak: BackdropTweak
) -> np.ndarray:
    """A painted studio backdrop: lighter behind the head, falling off to the corners,
    with faint mottling."""
    xs, ys = _grid(width, height)
    pw, ph = xs.shape[1], xs.shape[0]
    cx = 0.42 if tweak.flip else 0.58
    dist = np.sqrt(((xs - cx) * 1.1) ** 2 + ((ys - 0.35) * 0.9) ** 2)
    base = _shift_tone(np.array([0.42, 0.43, 0.45], np.float32), tweak.tone)
    light = 1.18 - 0.55 * np.clip(dist, 0, 1.2)
    mottle = cv2.GaussianBlur(rng.normal(0, 1, (ph, pw)).astype(np.float32), (0, 0), pw / 14)
    mottle /= max(1e-6, float(np.abs(mottle).max()))
    painted = base[None, None, :] * (light + 0.05 * mottle)[:, :, None]
    tint = _rotate_hue((0.5, 0.5, 0.52), tweak.hue) / 0.5
    return _upscale(painted * tint[None, None, :], width, height)


def white(width: int, height: int, rng: np.random.Generator, tweak: BackdropTweak) -> np.ndarray:
    """Near-white seamless paper; variations shift it a little lighter/darker and
    warmer/cooler (hue > 0 warms)."""
    xs, ys = _grid(width, height)
    cx = 0.42 if tweak.flip else 0.58
    dist = np.sqrt((xs - cx) ** 2 + (ys - 0.4) ** 2)
    top = 0.955 + 0.03 * tweak.tone
    warm = float(np.clip(tweak.hue / 20.0, -1.0, 1.0)) * 0.025
    tint = np.array([1.0 + warm, 1.0, 1.0 - warm], np.float32)
    painted = np.clip(top - 0.1 * dist, 0, 1)[:, :, None] * tint
    return _upscale(painted.astype(np.float32), width, height)


def gradient(
    width: int,
    height: int,
    rng: np.random.Generator,
    tweak: BackdropTweak,
    colors: tuple[tuple[float, float, float], tuple[float, float, float]] = (
        (0.20, 0.27, 0.38),
        (0.06, 0.08, 0.12),
    ),
) -> np.ndarray:
    """A diagonal two-colour gradient (light upper corner to dark lower corner)."""
    xs, ys = _grid(width, height)
    if tweak.flip:
        xs = 1.0 - xs
    t = np.clip(0.65 * ys + 0.35 * (1.0 - xs), 0, 1)[:, :, None]
    a = _shift_tone(_rotate_hue(colors[0], tweak.hue), tweak.tone)
    b = _shift_tone(_rotate_hue(colors[1], tweak.hue), tweak.tone)
    painted = a[None, None, :] * (1 - t) + b[None, None, :] * t
    return _upscale(painted.astype(np.float32), width, height)


def brand(
    width: int, height: int, rng: np.random.Generator, tweak: BackdropTweak, color: str
) -> np.ndarray:
    """The team colour, lit from behind the head so it reads as a backdrop, not a fill."""
    base = _shift_tone(np.array(hex_to_rgb(color), np.float32), tweak.tone * 0.5)
    xs, ys = _grid(width, height)
    cx = 0.42 if tweak.flip else 0.58
    dist = np.sqrt((xs - cx) ** 2 + (ys - 0.35) ** 2)
    light = (1.12 - 0.35 * np.clip(dist, 0, 1.2))[:, :, None]
    painted = np.clip(base[None, None, :] * light, 0, 1)
    return _upscale(painted.astype(np.float32), width, height)


def outdoor(width: int, height: int, rng: np.random.Generator, tweak: BackdropTweak) -> np.ndarray:
    """A synthetic out-of-focus park: sky at the top, foliage below, soft bokeh discs.
    It is painted, not photographed, and the metadata says so."""
    xs, ys = _grid(width, height)
    pw, ph = xs.shape[1], xs.shape[0]
    sky = _shift_tone(_rotate_hue((0.70, 0.82, 0.92), tweak.hue), tweak.tone)
    leaf_light = _shift_tone(_rotate_hue((0.45, 0.60, 0.30), tweak.hue), tweak.tone)
    leaf_dark = _shift_tone(_rotate_hue((0.16, 0.27, 0.13), tweak.hue), tweak.tone)
    blobs = cv2.GaussianBlur(rng.random((ph, pw)).astype(np.float32), (0, 0), pw / 18)
    blobs = (blobs - blobs.min()) / max(1e-6, float(blobs.max() - blobs.min()))
    horizon = 0.32 + 0.12 * (blobs - 0.5)
    sky_share = np.clip((horizon - ys) / 0.12 + 0.5, 0, 1)[:, :, None]
    foliage_t = np.clip(blobs * 1.2 - 0.1 + 0.3 * ys, 0, 1)[:, :, None]
    foliage = leaf_light[None, None, :] * (1 - foliage_t) + leaf_dark[None, None, :] * foliage_t
    painted = sky_share * sky[None, None, :] + (1 - sky_share) * foliage
    # Bokeh: soft bright discs where sunlight comes through the leaves.
    bokeh = np.zeros((ph, pw), np.float32)
    for _ in range(24):
        cx, cy = rng.random() * pw, (0.2 + 0.55 * rng.random()) * ph
        radius = (0.012 + 0.028 * rng.random()) * pw
        cv2.circle(
            bokeh, (round(cx), round(cy)), max(1, round(radius)), 0.12 + 0.2 * rng.random(), -1
        )
    bokeh = cv2.GaussianBlur(bokeh, (0, 0), pw / 70)
    painted = painted + bokeh[:, :, None] * np.array([1.0, 0.97, 0.85], np.float32)
    painted = cv2.GaussianBlur(np.clip(painted, 0, 1).astype(np.float32), (0, 0), pw / 160)
    return _upscale(painted, width, height)


def office_blur(
    canvas_source: np.ndarray, canvas_alpha: np.ndarray, inside: np.ndarray, tweak: BackdropTweak
) -> np.ndarray:
    """The photo's own background, person removed and defocused like a wide aperture.

    The person is filled from the surrounding background (normalised convolution), and
    the frame beyond the photo is filled the same way, so nothing is stretched.
    """
    height, width = canvas_alpha.shape
    step = max(1, max(width, height) // PAINT_SIDE)
    small = (max(2, width // step), max(2, height // step))
    rgb = cv2.resize(canvas_source, small, interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    background = (255 - canvas_alpha).astype(np.float32) * (1.0 / 255.0) * inside
    weight = cv2.resize(background, small, interpolation=cv2.INTER_AREA)
    weight = np.clip(weight - 0.5, 0, 1) * 2.0  # only confident background counts
    sigma = max(small) / 28
    num = cv2.GaussianBlur(rgb * weight[:, :, None], (0, 0), sigma)
    den = cv2.GaussianBlur(weight, (0, 0), sigma)
    fill = num / np.maximum(den, 1e-4)[:, :, None]
    wide = cv2.GaussianBlur(rgb * weight[:, :, None], (0, 0), sigma * 4)
    wide_den = cv2.GaussianBlur(weight, (0, 0), sigma * 4)
    wide_fill = wide / np.maximum(wide_den, 1e-4)[:, :, None]
    trust = np.clip(den * 3.0, 0, 1)[:, :, None]
    blended = wide_fill + trust * (fill - wide_fill)
    if not np.isfinite(blended).all() or float(weight.sum()) < 4.0:
        blended = np.full_like(rgb, 0.45)
    blended = cv2.GaussianBlur(blended.astype(np.float32), (0, 0), sigma * 0.6)
    blended = _shift_tone(blended, tweak.tone) * 0.92  # a touch darker: subject separation
    return _upscale(np.clip(blended, 0, 1).astype(np.float32), width, height)


def custom(width: int, height: int, data: bytes, tweak: BackdropTweak) -> np.ndarray:
    """An uploaded background: cover-cropped to the frame and softly defocused so the
    subject stays in front of it."""
    try:
        image = load_rgb_array(data)
    except BadImage as exc:
        raise BadImage(
            f"The custom background is not usable: {exc.message}", code=exc.code
        ) from exc
    ih, iw = image.shape[:2]
    scale = max(width / iw, height / ih)
    cw, ch = width / scale, height / scale
    x0 = (iw - cw) / 2 + (0.05 * (iw - cw) if tweak.flip else 0.0)
    y0 = (ih - ch) / 2
    crop = image[round(y0) : round(y0 + ch), round(x0) : round(x0 + cw)]
    resized = cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA)
    soft = cv2.GaussianBlur(resized, (0, 0), max(width, height) / 400)
    out = soft.astype(np.float32) / 255.0
    return np.clip(_shift_tone(out, tweak.tone * 0.4), 0, 1).astype(np.float32)
