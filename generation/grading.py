"""Colour grades as 1D per-channel lookup tables (one cv2.LUT pass), plus saturation,
and portrait lighting as a smooth gain map. Grades are looks, not corrections: each
style picks one, and each variation nudges it."""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np


@dataclass(frozen=True)
class Grade:
    contrast: float = 0.0  # S-curve strength, -0.3..0.5
    lift: float = 0.0  # raise the blacks (matte), 0..0.1
    gain: float = 1.0  # overall exposure multiplier
    warmth: float = 0.0  # + warms (red up, blue down), - cools
    saturation: float = 1.0
    shadow_tint: tuple[float, float, float] = (0.0, 0.0, 0.0)  # added in the shadows
    highlight_tint: tuple[float, float, float] = (0.0, 0.0, 0.0)  # added in the highlights


GRADES: dict[str, Grade] = {
    "neutral": Grade(contrast=0.08, saturation=1.0),
    "clean": Grade(contrast=0.10, gain=1.03, warmth=0.01, saturation=1.02),
    "warm": Grade(contrast=0.10, gain=1.02, warmth=0.05, saturation=1.05),
    "cool": Grade(contrast=0.10, warmth=-0.04, saturation=0.96),
    "clinical": Grade(contrast=0.06, gain=1.05, warmth=-0.02, saturation=0.95),
    "high_key": Grade(contrast=0.02, lift=0.03, gain=1.08, saturation=0.97),
    "low_key": Grade(contrast=0.30, gain=0.95, warmth=0.01, saturation=0.92),
    "executive": Grade(
        contrast=0.22, gain=0.98, warmth=0.02, saturation=0.93, shadow_tint=(-0.01, 0.0, 0.015)
    ),
    "matte": Grade(contrast=0.05, lift=0.06, saturation=0.88, warmth=0.02),
    "film": Grade(
        contrast=0.14,
        lift=0.03,
        warmth=0.03,
        saturation=0.94,
        shadow_tint=(0.0, 0.01, 0.02),
        highlight_tint=(0.02, 0.01, 0.0),
    ),
    "vivid": Grade(contrast=0.18, gain=1.02, saturation=1.12, warmth=0.02),
    "teal_orange": Grade(
        contrast=0.24,
        lift=0.02,
        saturation=1.05,
        shadow_tint=(-0.03, 0.02, 0.05),
        highlight_tint=(0.05, 0.015, -0.03),
    ),
    "mono": Grade(contrast=0.18, saturation=0.0),
}


@dataclass(frozen=True)
class GradeTweak:
    warmth: float = 0.0
    contrast: float = 0.0
    saturation: float = 0.0


def _tone_curve(x: np.ndarray, grade: Grade) -> np.ndarray:
    # S-curve around mid-grey: x + c * (smoothstep(x) - x)
    smooth = x * x * (3.0 - 2.0 * x)
    y = x + grade.contrast * (smooth - x)
    y = grade.lift + (1.0 - grade.lift) * y
    return y * grade.gain


def build_lut(grade: Grade) -> np.ndarray:
    """A (256, 1, 3) uint8 table for cv2.LUT on an RGB image."""
    x = np.linspace(0.0, 1.0, 256)
    base = _tone_curve(x, grade)
    shadows = (1.0 - x) ** 2
    highlights = x**2
    channels = []
    for index, warm_sign in enumerate((1.0, 0.25, -1.0)):
        y = base * (1.0 + warm_sign * grade.warmth)
        y = y + shadows * grade.shadow_tint[index] + highlights * grade.highlight_tint[index]
        channels.append(np.clip(y * 255.0 + 0.5, 0, 255))
    return np.stack(channels, axis=-1).astype(np.uint8).reshape(256, 1, 3)


def resolve_grade(name: str, tweak: GradeTweak | None = None) -> Grade:
    grade = GRADES.get(name, GRADES["neutral"])
    if tweak is None:
        return grade
    return replace(
        grade,
        warmth=grade.warmth + tweak.warmth,
        contrast=grade.contrast + tweak.contrast,
        saturation=max(0.0, grade.saturation + tweak.saturation),
    )


def apply_grade(image: np.ndarray, grade: Grade) -> np.ndarray:
    """Grade a uint8 RGB image."""
    out = cv2.LUT(image, build_lut(grade))
    if abs(grade.saturation - 1.0) > 0.025:  # below that nobody sees it
        out = adjust_saturation(out, grade.saturation)
    return out


def adjust_saturation(image: np.ndarray, factor: float) -> np.ndarray:
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    grey3 = cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB)
    # out = grey + factor * (image - grey), done in uint8 by addWeighted (saturating).
    return cv2.addWeighted(image, factor, grey3, 1.0 - factor, 0.0)


# Lighting: (key light strength, key offset to the side as a share of face width,
# fill falloff, vignette on the subject).
LIGHTS: dict[str, tuple[float, float, float]] = {
    "soft": (0.08, 0.3, 0.05),
    "flat": (0.03, 0.0, 0.0),
    "dramatic": (0.14, 1.0, 0.14),
    "rembrandt": (0.12, 0.8, 0.10),
    "bright": (0.10, 0.0, 0.02),
}


def light_map(
    size: tuple[int, int],
    face_center: tuple[float, float],
    face_height: float,
    light: str,
    *,
    flip: bool = False,
) -> np.ndarray:
    """A float32 gain map (about 0.85-1.15) at 1/8 of `size`: a soft key light on the
    face, falling off over the body, brighter on one side for the dramatic looks. It
    is smooth, so the caller scales it up where it is applied."""
    width, height = size
    strength, side, fall = LIGHTS.get(light, LIGHTS["soft"])
    step = 8
    sw, sh = max(2, width // step), max(2, height // step)
    ys, xs = np.mgrid[0:sh, 0:sw].astype(np.float32)
    direction = -1.0 if flip else 1.0
    kx = (face_center[0] + direction * side * face_height * 0.6) / step
    ky = (face_center[1] - face_height * 0.1) / step
    radius = face_height * 1.3 / step
    key = np.exp(-(((xs - kx) ** 2 + (ys - ky) ** 2) / (2.0 * radius * radius)))
    far = np.clip(np.sqrt((xs - kx) ** 2 + (ys - ky) ** 2) / (radius * 4.0), 0, 1)
    gain = 1.0 + strength * (key - 0.35) - fall * far
    return gain.astype(np.float32)
