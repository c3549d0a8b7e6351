"""Simple image measures shared by the upload inspection and the quality score."""

from __future__ import annotations

import math

import cv2
import numpy as np

SHARPNESS_SIDE = 160  # faces are measured at one size so the numbers compare


def face_crop(image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    x, y, w, h = box
    height, width = image.shape[:2]
    x0, y0 = max(0, int(x)), max(0, int(y))
    x1, y1 = min(width, math.ceil(x + w)), min(height, math.ceil(y + h))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return image
    return image[y0:y1, x0:x1]


def sharpness(region: np.ndarray) -> float:
    """Variance of the Laplacian of the region scaled to SHARPNESS_SIDE wide and to a
    mean grey of 128 (so a dark photo does not read as a blurry one). Larger is
    sharper: a focused face is well above 100, a blurred one under 30."""
    grey = cv2.cvtColor(region, cv2.COLOR_RGB2GRAY) if region.ndim == 3 else region
    grey = grey.astype(np.float32) * (128.0 / max(8.0, float(grey.mean())))
    height, width = grey.shape
    scale = SHARPNESS_SIDE / max(1, width)
    size = (SHARPNESS_SIDE, max(2, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    grey = cv2.resize(grey, size, interpolation=interpolation)
    return float(cv2.Laplacian(grey, cv2.CV_32F).var())


def luminance(region: np.ndarray) -> tuple[float, float, float]:
    """(mean 0-255, share of near-black pixels, share of near-white pixels)."""
    grey = cv2.cvtColor(region, cv2.COLOR_RGB2GRAY) if region.ndim == 3 else region
    total = grey.size or 1
    return (
        float(grey.mean()),
        float((grey < 12).sum()) / total,
        float((grey > 245).sum()) / total,
    )


def sharpness_score(value: float) -> float:
    """0-1 on a log scale: 10 -> 0, 300 -> 1."""
    return float(np.clip((math.log10(max(value, 1e-3)) - 1.0) / (math.log10(300) - 1.0), 0, 1))


def exposure_score(mean: float, dark_share: float, bright_share: float) -> float:
    """1 for a face around mid-grey, falling to 0 for very dark or very bright ones."""
    centred = 1.0 - min(1.0, abs(mean - 135.0) / 110.0)
    clipped = min(1.0, 2.0 * (dark_share + bright_share))
    return float(np.clip(centred - clipped, 0.0, 1.0))


# Mesh points on the cheeks, below the eyes: the skin the eye area is compared with.
CHEEK_POINTS = (50, 280, 205, 425)


def eye_visibility(image: np.ndarray, landmarks) -> float:
    """How bright the brightest part of the eye areas is against the cheeks: the 90th
    percentile of the luminance in a box around each eye (eye whites, lids, the skin
    around them) over the cheeks' mean, so neither skin tone nor exposure moves it much.
    Open eyes measured 0.84-1.02 on the test photos; black lenses painted over the same
    eyes 0.10-0.14, brown ones 0.36-0.51 (tests/generation/test_inspection.py)."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    height, width = grey.shape
    eyes = []
    for eye in (landmarks.eye_outline_left, landmarks.eye_outline_right):
        (x0, y0), (x1, y1) = eye.min(axis=0), eye.max(axis=0)
        pad_x, pad_y = 0.15 * (x1 - x0), 0.6 * (y1 - y0)
        box = grey[
            min(max(0, int(y0 - pad_y)), height) : min(height, max(0, int(y1 + pad_y) + 1)),
            min(max(0, int(x0 - pad_x)), width) : min(width, max(0, int(x1 + pad_x) + 1)),
        ]
        eyes.append(box.ravel())
    radius = max(2, int(0.04 * landmarks.face_height))
    cheeks = []
    for x, y in landmarks.points[list(CHEEK_POINTS)]:
        # Both ends clamped: a point past the edge gives an empty patch, not a wrapped one.
        top, left = min(max(0, int(y) - radius), height), min(max(0, int(x) - radius), width)
        bottom, right = min(max(0, int(y) + radius), height), min(max(0, int(x) + radius), width)
        cheeks.append(grey[top:bottom, left:right].ravel())
    eye_pixels, cheek_pixels = np.concatenate(eyes), np.concatenate(cheeks)
    if not eye_pixels.size or not cheek_pixels.size or cheek_pixels.mean() < 1:
        return 1.0  # nothing to compare: say nothing rather than guess
    return float(np.percentile(eye_pixels, 90) / cheek_pixels.mean())
