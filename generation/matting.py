"""Edge-aware mask refinement and compositing without a halo.

mediapipe's selfie mask is coarse (256 px) and soft: blended as-is it carries the old
background's colour into the hair, which shows as a light rim against a dark backdrop.
Two steps fix that: a guided filter snaps the mask to the photo's own edges, and colour
decontamination replaces each edge pixel's colour with an estimate of the foreground
colour alone before it is blended over the new backdrop.
"""

from __future__ import annotations

import cv2
import numpy as np


def _box(image: np.ndarray, radius: int) -> np.ndarray:
    return cv2.boxFilter(image, -1, (2 * radius + 1, 2 * radius + 1), borderType=cv2.BORDER_REFLECT)


def guided_filter(guide: np.ndarray, source: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """He et al.'s guided filter with a grey guide (float32 0-1 inputs): the output
    follows `source` but takes its edges from `guide`. cv2.ximgproc is not in the
    headless wheel, so this is the box-filter form."""
    mean_i = _box(guide, radius)
    mean_p = _box(source, radius)
    corr_ip = _box(guide * source, radius)
    var_i = _box(guide * guide, radius) - mean_i * mean_i
    a = (corr_ip - mean_i * mean_p) / (var_i + eps)
    b = mean_p - a * mean_i
    return _box(a, radius) * guide + _box(b, radius)


def fast_guided_filter(
    guide: np.ndarray, source_small: np.ndarray, radius: int, eps: float
) -> np.ndarray:
    """The guided filter with its coefficients solved at low resolution (He & Sun's fast
    variant): `source_small` is the input at the reduced size, `guide` is full size. The
    output is full size with the guide's edges: a quarter of the cost, same to the eye."""
    height, width = guide.shape[:2]
    small = (source_small.shape[1], source_small.shape[0])
    step = width / small[0]
    guide_s = cv2.resize(guide, small, interpolation=cv2.INTER_AREA)
    r = max(1, round(radius / step))
    mean_i = _box(guide_s, r)
    mean_p = _box(source_small, r)
    corr_ip = _box(guide_s * source_small, r)
    var_i = _box(guide_s * guide_s, r) - mean_i * mean_i
    a = (corr_ip - mean_i * mean_p) / (var_i + eps)
    b = mean_p - a * mean_i
    mean_a = cv2.resize(_box(a, r), (width, height), interpolation=cv2.INTER_LINEAR)
    mean_b = cv2.resize(_box(b, r), (width, height), interpolation=cv2.INTER_LINEAR)
    return cv2.add(cv2.multiply(mean_a, guide), mean_b)


_SMOOTHSTEP = np.array(
    [
        (lambda t: t * t * (3.0 - 2.0 * t))(min(1.0, max(0.0, (i / 255.0 - 0.15) / 0.7)))
        for i in range(256)
    ]
)
SMOOTHSTEP_LUT = np.clip(_SMOOTHSTEP * 255.0 + 0.5, 0, 255).astype(np.uint8)


def refine_mask(
    image: np.ndarray, mask_small: np.ndarray, *, radius: int, eps: float = 2e-3
) -> np.ndarray:
    """Snap a coarse mask (float32 0-1, at half size or so) to the edges of `image`
    (uint8 RGB, full size) and tighten its fractional band so less of the old
    background is blended in. Returns a full-size uint8 alpha (0-255)."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) * (1.0 / 255.0)
    refined = fast_guided_filter(grey, mask_small.astype(np.float32), radius, eps)
    # A smoothstep from 0.15 to 0.85 (as a table): keeps soft hair edges, drops the
    # faint outer skirt where the coarse model bleeds into the background.
    alpha = cv2.LUT(cv2.convertScaleAbs(refined, alpha=255.0), SMOOTHSTEP_LUT)
    # Where the person and the background are equally dark (dark hair on a dark wall)
    # the grey guide cannot tell them apart and the filter bites holes inside the
    # edge: where the coarse mask is sure, a little inside its edge, stay opaque.
    sure = cv2.erode((mask_small > 0.97).astype(np.uint8), np.ones((3, 3), np.uint8))
    sure = cv2.resize(sure * 255, (alpha.shape[1], alpha.shape[0]), interpolation=cv2.INTER_LINEAR)
    return cv2.max(alpha, sure)


def _local_mean(image: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    """Normalised convolution: the local mean of `image` counting only where weight>0."""
    num = cv2.GaussianBlur(image * weight[:, :, None], (0, 0), sigma)
    den = cv2.GaussianBlur(weight, (0, 0), sigma)
    return num / np.maximum(den, 1e-4)[:, :, None]


def _sample(image: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Bilinear samples of a 3-channel float image at N points -> (N, 3). cv2.remap
    wants 2D maps under 32767 on a side, so the points are laid out in rows."""
    count = len(xs)
    cols = 1024
    rows = -(-count // cols)
    pad = rows * cols - count
    map_x = np.pad(xs, (0, pad)).reshape(rows, cols)
    map_y = np.pad(ys, (0, pad)).reshape(rows, cols)
    out = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(-1, 3)[:count]


def decontaminate(image: np.ndarray, alpha8: np.ndarray, *, sigma: float) -> np.ndarray:
    """Replace the colour of edge pixels (fractional alpha) with an estimate of the
    foreground colour alone; returns a uint8 copy of `image`.

    Solve I = aF + (1-a)B for F with B the local mean of the nearby background, and
    lean on the local mean of the confident foreground where alpha is small (the solve
    is unstable there). The local means are computed at quarter size and sampled only
    at the edge pixels, so the cost follows the outline, not the frame.
    """
    ys, xs = np.nonzero(cv2.inRange(alpha8, 1, 251))
    out = image.copy()
    if len(ys) == 0:
        return out
    height, width = alpha8.shape
    step = 4
    small = (max(2, width // step), max(2, height // step))
    rgb_s = cv2.resize(image, small, interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    alpha_s = cv2.resize(alpha8, small, interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    s = max(0.7, sigma / step)
    background = _local_mean(rgb_s, (alpha_s < 0.05).astype(np.float32), s)
    foreground = _local_mean(rgb_s, (alpha_s > 0.95).astype(np.float32), s)
    # Sample both maps bilinearly at the band pixels only.
    map_x = (xs.astype(np.float32) + 0.5) * (small[0] / width) - 0.5
    map_y = (ys.astype(np.float32) + 0.5) * (small[1] / height) - 0.5
    bg = _sample(background, map_x, map_y)
    fg = _sample(foreground, map_x, map_y)
    a = alpha8[ys, xs][:, None].astype(np.float32) / 255.0
    pixel = image[ys, xs].astype(np.float32) / 255.0
    solved = np.clip((pixel - (1.0 - a) * bg) / np.maximum(a, 0.05), 0.0, 1.0)
    trust = np.clip((a - 0.25) * (1.0 / 0.6), 0.0, 1.0)  # 0 below a=.25, 1 above a=.85
    estimate = fg + trust * (solved - fg)
    keep = np.clip((a - 0.9) * 12.0, 0.0, 1.0)  # near-opaque: mostly the pixel's own colour
    estimate = estimate + keep * (pixel - estimate)
    out[ys, xs] = np.clip(estimate * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return out


def composite(
    foreground: np.ndarray,
    alpha8: np.ndarray,
    backdrop: np.ndarray,
    gain_small: np.ndarray | None = None,
) -> np.ndarray:
    """Blend a uint8 foreground, lit by an optional low-resolution gain map (float,
    about 0.8-1.2), over a uint8 backdrop with a uint8 alpha. cv2 saturating passes."""
    height, width = alpha8.shape
    if gain_small is not None:
        gain8 = np.clip(gain_small * 128.0 + 0.5, 0, 255).astype(np.uint8)
        gain3 = cv2.resize(
            cv2.merge([gain8, gain8, gain8]), (width, height), interpolation=cv2.INTER_LINEAR
        )
        foreground = cv2.multiply(foreground, gain3, scale=1.0 / 128.0)
    weight = alpha8.astype(np.float32) * (1.0 / 255.0)
    return cv2.blendLinear(foreground, backdrop, weight, 1.0 - weight)


def refine_with_colour(
    image: np.ndarray, mask: np.ndarray, protect: np.ndarray | None = None
) -> np.ndarray:
    """Correct the coarse mask near its edge with a local colour model.

    The selfie model works at 256 px and often claims a wedge of background beside the
    neck or between arm and body. Near the mask's edge each pixel is compared with the
    local mean colour of the confident person and of the confident background; where
    those two differ, the pixel follows whichever it is closer to.
    It only removes (the model's errors are almost always claiming too much), never
    inside `protect` (the face), and works at the mask's own small resolution.
    """
    height, width = mask.shape
    size = max(height, width)
    rgb = image.astype(np.float32) * (1.0 / 255.0)
    binary = (mask > 0.5).astype(np.uint8)
    k = max(3, round(size * 0.012)) | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    sure_fg = cv2.erode((mask > 0.9).astype(np.uint8), kernel).astype(np.float32)
    sure_bg = cv2.erode((mask < 0.1).astype(np.uint8), kernel).astype(np.float32)
    if sure_fg.sum() < 16 or sure_bg.sum() < 16:
        return mask
    # Wide local means, computed at quarter size (a wide blur loses nothing there).
    step = 4
    small = (max(2, width // step), max(2, height // step))
    rgb_s = cv2.resize(rgb, small, interpolation=cv2.INTER_AREA)
    sigma = size * 0.05 / step
    fg_mean = _local_mean(rgb_s, cv2.resize(sure_fg, small, interpolation=cv2.INTER_AREA), sigma)
    bg_mean = _local_mean(rgb_s, cv2.resize(sure_bg, small, interpolation=cv2.INTER_AREA), sigma)
    fg_mean = cv2.resize(fg_mean, (width, height), interpolation=cv2.INTER_LINEAR)
    bg_mean = cv2.resize(bg_mean, (width, height), interpolation=cv2.INTER_LINEAR)
    d_fg = ((rgb - fg_mean) ** 2).sum(axis=2)
    d_bg = ((rgb - bg_mean) ** 2).sum(axis=2)
    # 1 where the pixel is clearly nearer the background colour, 0 when it is not.
    background_vote = np.clip((d_fg - d_bg) / (d_fg + d_bg + 1e-6) * 2.5, 0.0, 1.0)
    separation = np.clip(((fg_mean - bg_mean) ** 2).sum(axis=2) / 0.03, 0.0, 1.0)
    band_k = max(3, round(size * 0.03)) | 1
    band_kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (band_k, band_k))
    inner = cv2.erode(binary, band_kernel).astype(np.float32)
    band = np.clip(binary.astype(np.float32) - inner, 0.0, 1.0)
    band = cv2.GaussianBlur(band, (0, 0), band_k / 6) * (mask > 0.05)
    weight = band * separation * background_vote
    if protect is not None:
        weight = weight * (1.0 - protect)
    weight = np.clip(cv2.GaussianBlur(weight, (0, 0), 1.0) * 2.0, 0.0, 1.0)
    return np.clip(mask * (1.0 - weight), 0.0, 1.0).astype(np.float32)
