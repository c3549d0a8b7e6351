"""Character art styles for the local engine: honest image filters, not generative
models. Each turns a finished portrait into a look (flat anime colour with ink lines,
watercolour, a soft 3D-render look, ...); none of them can change the face, pose or
expression, and the metadata says so. A remote engine gets the `prompt` instead."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from . import grading

Filter = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def _at_scale(
    image: np.ndarray, long_side: int, fn: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Run a slow filter on a copy at most `long_side` px and bring it back."""
    height, width = image.shape[:2]
    factor = long_side / max(height, width)
    if factor >= 1:
        return fn(image)
    small = cv2.resize(
        image, (round(width * factor), round(height * factor)), interpolation=cv2.INTER_AREA
    )
    return cv2.resize(fn(small), (width, height), interpolation=cv2.INTER_CUBIC)


def _ink_lines(image: np.ndarray, thickness: int) -> np.ndarray:
    """A 0-1 float map, 0 where an ink line goes."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    grey = cv2.medianBlur(grey, 5)
    block = max(3, (thickness * 4) | 1)
    edges = cv2.adaptiveThreshold(
        grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, 6
    )
    if thickness > 1:
        edges = cv2.erode(edges, np.ones((thickness, thickness), np.uint8))
    return cv2.GaussianBlur(edges, (3, 3), 0).astype(np.float32) / 255.0


def _posterize(image: np.ndarray, levels: int) -> np.ndarray:
    step = 256 // levels
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)
    lab[..., 0] = (lab[..., 0] // step) * step + step // 2
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def _glow(
    image: np.ndarray, threshold: int, sigma: float, strength: float, tint=(1.0, 1.0, 1.0)
) -> np.ndarray:
    bright = np.clip(image.astype(np.float32) - threshold, 0, 255) * (255.0 / (255 - threshold))
    bloom = cv2.GaussianBlur(bright, (0, 0), sigma) * np.array(tint, np.float32)
    return np.clip(image.astype(np.float32) + strength * bloom, 0, 255).astype(np.uint8)


def _vignette(image: np.ndarray, strength: float) -> np.ndarray:
    height, width = image.shape[:2]
    ys, xs = np.mgrid[0:height:8, 0:width:8].astype(np.float32)
    dist = np.sqrt(((xs - width / 2) / (width / 2)) ** 2 + ((ys - height / 2) / (height / 2)) ** 2)
    mask = np.clip(1.0 - strength * np.clip(dist - 0.5, 0, 1) ** 1.5, 0, 1)
    mask = cv2.resize(mask, (width, height), interpolation=cv2.INTER_LINEAR)
    return (image.astype(np.float32) * mask[:, :, None]).astype(np.uint8)


def realistic(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    graded = grading.apply_grade(image, grading.GRADES["teal_orange"])
    return _vignette(graded, 0.6)


def anime(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    def flatten(img: np.ndarray) -> np.ndarray:
        smooth = img
        for _ in range(3):
            smooth = cv2.bilateralFilter(smooth, 9, 40, 7)
        return _posterize(smooth, 6)

    flat = _at_scale(image, 640, flatten)
    flat = grading.adjust_saturation(flat, 1.35)
    lines = _ink_lines(image, max(1, image.shape[1] // 700))
    return (flat.astype(np.float32) * lines[:, :, None]).astype(np.uint8)


def watercolour(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Ghibli-like: soft washes, pastel colour, pigment pooling at edges, paper grain."""
    washed = _at_scale(image, 640, lambda img: cv2.stylization(img, sigma_s=45, sigma_r=0.35))
    pastel = grading.apply_grade(
        washed, grading.Grade(contrast=-0.1, lift=0.08, warmth=0.04, saturation=0.95, gain=1.04)
    )
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(cv2.GaussianBlur(grey, (5, 5), 0), 40, 110)
    pooling = cv2.GaussianBlur(edges, (0, 0), 2.0).astype(np.float32) / 255.0
    height, width = grey.shape
    paper = cv2.GaussianBlur(
        rng.normal(0, 1, (height // 2, width // 2)).astype(np.float32), (0, 0), 1.2
    )
    paper = cv2.resize(paper, (width, height)) * 6.0
    out = pastel.astype(np.float32) * (1.0 - 0.2 * pooling[:, :, None]) + paper[:, :, None]
    return np.clip(out, 0, 255).astype(np.uint8)


def soft_3d(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Pixar-like: smooth plastic surfaces, rich colour, soft key-light glow."""
    smooth = _at_scale(
        image,
        640,
        lambda img: cv2.edgePreservingFilter(img, flags=cv2.RECURS_FILTER, sigma_s=50, sigma_r=0.3),
    )
    detail = cv2.GaussianBlur(smooth, (0, 0), 8)
    clarity = cv2.addWeighted(smooth, 1.35, detail, -0.35, 0)  # large-scale shading
    graded = grading.apply_grade(
        clarity, grading.Grade(contrast=0.12, warmth=0.02, saturation=1.2, gain=1.02)
    )
    return _glow(graded, 215, max(4.0, image.shape[1] / 90), 0.2)


def storybook(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Disney-like: the soft 3D look, warmer and brighter, with bloom and a vignette."""
    base = soft_3d(image, rng)
    warm = grading.apply_grade(base, grading.Grade(lift=0.02, warmth=0.03, saturation=1.08))
    return _vignette(_glow(warm, 215, max(6.0, image.shape[1] / 60), 0.15, (1.0, 0.9, 0.75)), 0.5)


def cyberpunk(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Teal shadows, magenta highlights, neon glow and faint scanlines."""
    graded = grading.apply_grade(
        image,
        grading.Grade(
            contrast=0.3,
            saturation=1.25,
            shadow_tint=(-0.05, 0.09, 0.18),
            highlight_tint=(0.2, -0.06, 0.16),
        ),
    )
    glowing = _glow(graded, 170, max(5.0, image.shape[1] / 80), 0.55, (1.0, 0.35, 1.0))
    scan = np.ones(image.shape[0], np.float32)
    scan[::3] = 0.9
    return (glowing.astype(np.float32) * scan[:, None, None]).astype(np.uint8)


def pencil(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Graphite on paper: colour dodge of the grey image by its blurred negative."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    inverted = 255 - grey
    blurred = cv2.GaussianBlur(inverted, (0, 0), max(2.0, image.shape[1] / 140))
    sketch = cv2.divide(grey, 255 - blurred, scale=256)
    lines = _ink_lines(image, 1)
    sketch = (sketch.astype(np.float32) * (0.55 + 0.45 * lines)).astype(np.uint8)
    paper = np.clip(245 + rng.normal(0, 2.0, grey.shape), 0, 255).astype(np.float32)
    out = sketch.astype(np.float32) * paper / 255.0
    return cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2RGB)


@dataclass(frozen=True)
class ArtStyle:
    slug: str
    name: str
    prompt: str  # what a generative engine is asked for
    apply: Filter  # what the local engine does instead
    local_note: str


ART_STYLES: dict[str, ArtStyle] = {
    style.slug: style
    for style in (
        ArtStyle("realistic", "Cinematic realistic", "cinematic realistic film still, photographic, "
                 "dramatic lighting, shallow depth of field", realistic,
                 "teal and orange film grade with a vignette"),
        ArtStyle("anime", "Anime", "anime style illustration, clean ink line art, flat cel shading, "
                 "vibrant colours", anime, "edge-preserving colour flattening with ink lines"),
        ArtStyle("ghibli", "Ghibli-like watercolour", "hand-painted watercolour animation style, soft "
                 "pastel colours, gentle light, painterly backgrounds", watercolour,
                 "watercolour wash, pastel grade, edge pooling and paper grain"),
        ArtStyle("pixar", "Pixar-like 3D", "3D animated film character render, soft subsurface "
                 "lighting, expressive, smooth stylised surfaces", soft_3d,
                 "smoothed surfaces, rich colour and soft glow (a 2D filter, not a 3D model)"),
        ArtStyle("disney", "Disney-like", "classic animated feature style, warm storybook colours, "
                 "soft glow, expressive character design", storybook,
                 "the 3D-look filter, warmer, with bloom and a vignette"),
        ArtStyle("cyberpunk", "Cyberpunk", "cyberpunk neon portrait, teal and magenta lighting, "
                 "rain-soaked city glow, futuristic", cyberpunk,
                 "teal and magenta split grade, neon glow and scanlines"),
        ArtStyle("sketch", "Pencil sketch", "detailed graphite pencil sketch on paper, cross-hatching, "
                 "monochrome", pencil, "graphite dodge sketch with line emphasis on paper"),
    )
}  # fmt: skip


def apply_art_style(image: np.ndarray, slug: str, seed: int = 0) -> np.ndarray:
    try:
        style = ART_STYLES[slug]
    except KeyError:
        raise KeyError(f"unknown art style {slug!r}") from None
    return style.apply(image, np.random.default_rng([seed, 7]))
