"""`studio`: the default local engine. A real photo pipeline, offline and deterministic:

detect the face and its landmarks -> plan a head-and-shoulders crop -> cut the person
out (refined mask, decontaminated edge colours) -> retouch the face, grade, light ->
composite over the style's backdrop -> sharpen -> Lanczos to size -> encode.

It changes framing, backdrop, light, colour and skin. It does not change clothes, pose,
expression or the face itself; metadata on every image says so.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace

import cv2
import numpy as np
from PIL import Image

from . import backdrops, grading, matting, retouch
from .errors import NoFace
from .framing import EYE_LINE, MAX_ZOOM, Crop, plan_crop
from .imaging import DCT_REDUCTIONS, encode_image, load_reduced
from .interface import OUTPUT_FORMATS, Availability, RenderedImage, RenderRequest, StyleSpec
from .vision import (
    ANALYSIS_LONG_SIDE,
    SEGMENT_LONG_SIDE,
    FaceAnalysis,
    FaceLandmarks,
    analyse_faces,
    downscale,
    segment_person,
)

ENGINE_NAME = "studio"
MODEL_NAME = "studio-1 (mediapipe face mesh + selfie segmentation, OpenCV)"
DESCRIPTION = (
    "Studio (on our servers): reframes your photo, replaces the background, evens the "
    "light and colour and gently smooths skin. It keeps your own face, expression, pose "
    "and clothes exactly as photographed."
)
CHANGES = ("framing", "backdrop", "lighting", "colour grade", "skin retouch (face only)")
UNCHANGED = ("face and identity", "expression", "pose", "clothes", "hair")


@dataclass(frozen=True)
class Variation:
    """What one variation in a batch changes: tighter/looser crop, a small sideways
    shift, backdrop tone and light direction, and the grade's warmth and contrast."""

    index: int
    share_scale: float = 1.0
    x_offset: float = 0.0
    backdrop: backdrops.BackdropTweak = field(default_factory=backdrops.BackdropTweak)
    grade: grading.GradeTweak = field(default_factory=grading.GradeTweak)


# The first four are fixed so a batch of four always differs visibly; later ones draw
# from the same ranges with the seed.
_VARIATION_TABLE = (
    Variation(0),
    Variation(
        1,
        share_scale=1.09,
        x_offset=0.03,
        backdrop=backdrops.BackdropTweak(tone=0.45, hue=8.0, flip=True),
        grade=grading.GradeTweak(warmth=0.035, contrast=-0.03),
    ),
    Variation(
        2,
        share_scale=0.91,
        x_offset=-0.03,
        backdrop=backdrops.BackdropTweak(tone=-0.45, hue=-8.0),
        grade=grading.GradeTweak(warmth=-0.03, contrast=0.07),
    ),
    Variation(
        3,
        share_scale=1.0,
        x_offset=0.06,
        backdrop=backdrops.BackdropTweak(tone=0.2, hue=18.0, flip=True),
        grade=grading.GradeTweak(saturation=-0.08, contrast=0.04),
    ),
)


def variation_for(index: int, seed: int) -> Variation:
    if index < len(_VARIATION_TABLE):
        return _VARIATION_TABLE[index]
    rng = np.random.default_rng([seed, index, 17])
    return Variation(
        index,
        share_scale=float(rng.uniform(0.9, 1.1)),
        x_offset=float(rng.uniform(-0.05, 0.05)),
        backdrop=backdrops.BackdropTweak(
            tone=float(rng.uniform(-0.5, 0.5)),
            hue=float(rng.uniform(-20, 20)),
            flip=bool(rng.integers(0, 2)),
        ),
        grade=grading.GradeTweak(
            warmth=float(rng.uniform(-0.04, 0.04)),
            contrast=float(rng.uniform(-0.04, 0.08)),
            saturation=float(rng.uniform(-0.08, 0.04)),
        ),
    )


@dataclass(frozen=True)
class Decoded:
    """The source decoded at 1/`reduction` of its full size: pixel i covers full-size
    pixels [i*r, (i+1)*r)."""

    image: Image.Image
    reduction: int


class Prepared:
    """A source and what the models found in it (reused across a batch, and by every
    request for the same source). Positions (the analysis, every crop) are in full-size
    pixels. The analysis ran on a reduced decode; `pixels_for` hands a frame the coarsest
    decode that still has the frame's own resolution inside its crop, so a phone photo
    is decoded in full only for a frame that needs that detail, and then once."""

    def __init__(
        self,
        *,
        source: bytes,
        size: tuple[int, int],
        decoded: Decoded,
        analysis: FaceAnalysis,
        mask: np.ndarray,
        mask_scale: float,
    ) -> None:
        self.source = source
        self.size = size  # upright full size
        self.analysis = analysis
        self.mask = mask  # person mask at the segmentation's own (downscaled) size
        self.mask_scale = mask_scale  # full-size pixels per mask pixel
        self._decodes = {decoded.reduction: decoded}
        self._lock = threading.Lock()

    @property
    def landmarks(self) -> FaceLandmarks:
        if self.analysis.landmarks is None:
            raise NoFace("We could not find a face in this photo.")
        return self.analysis.landmarks

    def pixels_for(self, crop_height: float, out_height: int) -> Decoded:
        """The coarsest decode with at least `out_height` pixels across `crop_height`
        full-size pixels (the full decode when even that has fewer)."""
        wanted = next((r for r in DCT_REDUCTIONS if crop_height / r >= out_height), 1)
        with self._lock:
            finer = [r for r in self._decodes if r <= wanted]
            if finer:
                return self._decodes[max(finer)]
            image, _size, used = load_reduced(self.source, wanted)
            decoded = self._decodes.setdefault(used, Decoded(image, used))
        return decoded


def prepare(source: bytes) -> Prepared:
    """Decode `source` reduced to about the analysis size (libjpeg's DCT scaling for a
    JPEG, ~4x faster than a full decode of a phone photo), find the face and cut out the
    person; the analysis comes back in full-size pixels."""
    image, size, reduction = load_reduced(source, DCT_REDUCTIONS[0], ANALYSIS_LONG_SIDE)
    array = np.asarray(image)
    analysis = analyse_faces(array).scaled(float(reduction))
    if analysis.landmarks is None:
        raise NoFace("We could not find a face in this photo.")
    small, factor = downscale(array, SEGMENT_LONG_SIDE)
    mask = segment_person(small)
    mask_scale = factor * reduction
    # The colour check targets the model's usual error, background claimed beside the
    # neck and shoulders; above the chin it would punch holes in dark hair on a dark
    # wall, so everything down to the chin is protected.
    head = np.zeros(mask.shape, np.uint8)
    chin_row = int(float(analysis.landmarks.chin[1]) / mask_scale)
    head[: max(0, chin_row)] = 1
    mask = matting.refine_with_colour(small, mask, head.astype(np.float32))
    return Prepared(
        source=source,
        size=size,
        decoded=Decoded(image, reduction),
        analysis=analysis,
        mask=mask,
        mask_scale=mask_scale,
    )


class _PreparedCache:
    """A few recent sources by content hash: a batch of variations, the identity
    re-renders and the character panels all reuse one analysis."""

    def __init__(self, size: int = 4) -> None:
        self._items: OrderedDict[bytes, Prepared] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, source: bytes) -> Prepared:
        key = hashlib.blake2b(source, digest_size=16).digest()
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        prepared = prepare(source)
        with self._lock:
            self._items[key] = prepared
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return prepared

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_prepared_cache = _PreparedCache()


@dataclass(frozen=True)
class Composition:
    """The finished frame and the parts it was made from (kept for tests and checks).

    The pipeline runs at a working size no larger than the photo's own detail in the
    crop (see `working_frame`). `alpha`, `backdrop` and `work_image` are at that working size;
    `image` is the final frame after the last Lanczos resize.
    """

    image: np.ndarray  # uint8 RGB, final size
    work_image: np.ndarray  # uint8 RGB, working size, before the final resize
    alpha: np.ndarray  # uint8 0-255 person mask, working size
    backdrop: np.ndarray  # uint8 RGB, working size
    crop: Crop  # in full-size source pixels
    landmarks: FaceLandmarks  # in final-frame pixels
    variation: Variation


def _place_source(
    image: Image.Image, crop: Crop, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """The part of the photo inside the crop (in `image`'s pixels), Lanczos-resampled
    onto the frame; returns the frame and a 0/1 map of where the photo covers it (the
    rest becomes backdrop)."""
    width, height = size
    src_w, src_h = image.size
    scale = width / crop.width
    sx0, sy0 = max(0.0, crop.x), max(0.0, crop.y)
    sx1, sy1 = min(float(src_w), crop.x + crop.width), min(float(src_h), crop.y + crop.height)
    frame = np.zeros((height, width, 3), np.uint8)
    inside = np.zeros((height, width), np.uint8)
    dx0, dy0 = round((sx0 - crop.x) * scale), round((sy0 - crop.y) * scale)
    dx1 = min(width, round((sx1 - crop.x) * scale))
    dy1 = min(height, round((sy1 - crop.y) * scale))
    if dx1 - dx0 < 1 or dy1 - dy0 < 1:
        return frame, inside
    if scale == 1.0 and float(crop.x).is_integer() and float(crop.y).is_integer():
        # Working at the photo's own resolution: a plain copy, no resampling at all.
        left, top = int(sx0), int(sy0)
        frame[dy0:dy1, dx0:dx1] = np.asarray(
            image.crop((left, top, left + dx1 - dx0, top + dy1 - dy0))
        )
    else:
        part = image.resize(
            (dx1 - dx0, dy1 - dy0), Image.Resampling.LANCZOS, box=(sx0, sy0, sx1, sy1)
        )
        frame[dy0:dy1, dx0:dx1] = np.asarray(part)
    inside[dy0:dy1, dx0:dx1] = 1
    return frame, inside


def _fade_cut_edges(alpha: np.ndarray, inside: np.ndarray, padded: tuple[str, ...]) -> np.ndarray:
    """Where the frame runs past the photo's side or bottom edge the person is cut by a
    straight line; fade them into the backdrop over a short distance instead, so it
    reads as a falloff rather than a cut-out. (We never invent the missing body.)"""
    height, width = alpha.shape
    rows = np.flatnonzero(inside.any(axis=1))
    cols = np.flatnonzero(inside.any(axis=0))
    if len(rows) == 0 or len(cols) == 0:
        return alpha
    feather = max(2.0, 0.07 * width)
    ramp_x = np.ones(width, np.float32)
    ramp_y = np.ones(height, np.float32)
    xs = np.arange(width, dtype=np.float32)
    ys = np.arange(height, dtype=np.float32)
    if "left" in padded:
        ramp_x *= np.clip((xs - cols[0]) / feather, 0.0, 1.0)
    if "right" in padded:
        ramp_x *= np.clip((cols[-1] - xs) / feather, 0.0, 1.0)
    if "bottom" in padded:
        ramp_y *= np.clip((rows[-1] - ys) / feather, 0.0, 1.0)
    ramp = ramp_y[:, None] * ramp_x[None, :]
    ramp = ramp * ramp * (3.0 - 2.0 * ramp)  # smoothstep: no visible start of the fade
    return (alpha.astype(np.float32) * ramp + 0.5).astype(np.uint8)


def _place_mask(mask: np.ndarray, factor: float, crop: Crop, size: tuple[int, int]) -> np.ndarray:
    """The coarse person mask (`factor` crop pixels per mask pixel) placed on the frame
    at half size (the guided filter solves at that size anyway)."""
    width, height = max(2, size[0] // 2), max(2, size[1] // 2)
    scale = width / crop.width
    matrix = np.array(
        [[factor * scale, 0.0, -crop.x * scale], [0.0, factor * scale, -crop.y * scale]],
        np.float64,
    )
    # Pixel centres: mask pixel i covers source [i*f, (i+1)*f), centre (i+.5)*f.
    matrix[:, 2] += 0.5 * factor * scale - 0.5
    return cv2.warpAffine(
        mask, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def _backdrop(
    style: StyleSpec,
    size: tuple[int, int],
    frame: np.ndarray,
    alpha8: np.ndarray,
    inside: np.ndarray,
    variation: Variation,
    rng: np.random.Generator,
) -> np.ndarray:
    width, height = size
    tweak = variation.backdrop
    kind = style.backdrop
    if kind == "white":
        painted = backdrops.white(width, height, rng, tweak)
    elif kind == "office_blur":
        painted = backdrops.office_blur(frame, alpha8, inside, tweak)
    elif kind == "gradient":
        if style.brand_color:
            light = backdrops.hex_to_rgb(style.brand_color)
            dark = (light[0] * 0.3, light[1] * 0.3, light[2] * 0.3)
            painted = backdrops.gradient(width, height, rng, tweak, (light, dark))
        else:
            painted = backdrops.gradient(width, height, rng, tweak)
    elif kind == "outdoor":
        painted = backdrops.outdoor(width, height, rng, tweak)
    elif kind == "brand":
        painted = backdrops.brand(width, height, rng, tweak, style.brand_color or "#808080")
    elif kind == "custom":
        painted = backdrops.custom(width, height, style.custom_backdrop or b"", tweak)
    else:
        painted = backdrops.studio_grey(width, height, rng, tweak)
    return backdrops.to_uint8(painted, rng)


def working_frame(crop: Crop, size: tuple[int, int]) -> tuple[Crop, tuple[int, int]]:
    """The crop and size the pipeline runs at, so the photo is resampled exactly once.

    A photo with more detail in the crop than the output is resampled (Lanczos) to
    the output size up front. A photo with less is worked at its own resolution (the
    crop snapped to whole pixels, a plain copy) and Lanczos-resized to the output at the
    very end: upscaling first would only make every step slower.
    """
    if crop.height >= size[1]:
        return crop, size
    work = (max(16, round(crop.width)), max(16, round(crop.height)))
    snapped = replace(
        crop,
        x=float(round(crop.x)),
        y=float(round(crop.y)),
        width=float(work[0]),
        height=float(work[1]),
    )
    return snapped, work


def compose_portrait(
    prepared: Prepared,
    style: StyleSpec,
    size: tuple[int, int],
    *,
    seed: int,
    variation_index: int = 0,
    retouch_strength: float | None = None,
    grade_name: str | None = None,
    light_name: str | None = None,
    framing: float | None = None,
    x_offset: float = 0.0,
    max_zoom: float = MAX_ZOOM,
) -> Composition:
    """Make one portrait frame. The overrides let the character templates reuse the
    pipeline with their own framing and look."""
    variation = variation_for(variation_index, seed)
    rng = np.random.default_rng([seed, variation_index])
    landmarks = prepared.landmarks
    planned = plan_crop(
        landmarks,
        prepared.size,
        size,
        (framing if framing is not None else style.framing) * variation.share_scale,
        x_offset=variation.x_offset + x_offset,
        max_zoom=max_zoom,
    )
    decoded = prepared.pixels_for(planned.height, size[1])
    reduction = decoded.reduction
    # From here on the crop is in the decoded copy's pixels.
    crop, work = working_frame(planned.scaled(1.0 / reduction), size)
    work_w = work[0]
    scale = work_w / crop.width
    frame, inside = _place_source(decoded.image, crop, work)
    coarse = _place_mask(prepared.mask, prepared.mask_scale / reduction, crop, work)
    alpha = matting.refine_mask(frame, coarse, radius=max(2, round(work_w / 128)))
    if crop.padded:
        alpha = _fade_cut_edges(cv2.multiply(alpha, inside), inside, crop.padded)
    face = landmarks.transformed(scale / reduction, -crop.x * scale, -crop.y * scale)

    subject = frame
    strength = style.retouch if retouch_strength is None else retouch_strength
    subject = retouch.smooth_skin(subject, face, strength)
    if style.brighten_eyes:
        subject = retouch.brighten_eyes(subject, face)
    if style.brighten_teeth:
        subject = retouch.brighten_teeth(subject, face)
    grade = grading.resolve_grade(grade_name or style.grade, variation.grade)
    subject = grading.apply_grade(subject, grade)

    foreground = matting.decontaminate(subject, alpha, sigma=work_w / 48)
    face_center = (float(face.eye_center[0]), float(face.eye_center[1]))
    gain = grading.light_map(
        work, face_center, face.face_height, light_name or style.light, flip=variation.backdrop.flip
    )
    backdrop = _backdrop(style, work, frame, alpha, inside, variation, rng)
    work_image = matting.composite(foreground, alpha, backdrop, gain)
    work_image = retouch.unsharp(
        work_image, amount=0.35 + 0.15 * strength, sigma=max(0.8, work_w / 1024)
    )
    if work != size:
        final = np.asarray(Image.fromarray(work_image).resize(size, Image.Resampling.LANCZOS))
    else:
        final = work_image
    crop = crop.scaled(float(reduction))  # back in full-size pixels
    out_scale = size[0] / crop.width
    return Composition(
        image=final,
        work_image=work_image,
        alpha=alpha,
        backdrop=backdrop,
        crop=crop,
        landmarks=landmarks.transformed(out_scale, -crop.x * out_scale, -crop.y * out_scale),
        variation=variation,
    )


def portrait_metadata(
    request: RenderRequest, composition: Composition, variation_index: int
) -> dict:
    crop = composition.crop
    style = request.style
    return {
        "engine": ENGINE_NAME,
        "model": MODEL_NAME,
        "engine_description": DESCRIPTION,
        "generative": False,
        "style": style.slug,
        "aspect_ratio": request.aspect_ratio,
        "quality": request.quality,
        "seed": request.seed,
        "variation": variation_index,
        "changed": {
            "framing": {
                "face_share": round(crop.face_share, 4),
                "eye_line": round(EYE_LINE, 4),
                "zoom": round(crop.zoom, 4),
                "padded_with_backdrop": list(crop.padded),
            },
            "backdrop": style.backdrop,
            "light": style.light,
            "grade": style.grade,
            "skin_retouch": round(request.retouch_strength, 3),
            "eyes_brightened": style.brighten_eyes,
            "teeth_brightened": style.brighten_teeth,
        },
        "changes": list(CHANGES),
        "unchanged": list(UNCHANGED),
        "note": "Local photo pipeline: it does not change clothes, pose or expression.",
    }


class StudioEngine:
    """The default engine. Thread-safe: all state is per call except the model cache."""

    name = ENGINE_NAME
    description = DESCRIPTION
    model = MODEL_NAME
    generative = False

    def availability(self) -> Availability:
        return Availability(True, "runs locally, no provider key needed")

    def render(self, request: RenderRequest) -> list[RenderedImage]:
        prepared = _prepared_cache.get(request.source)
        size = request.size
        images = []
        for offset in range(request.count):
            variation_index = request.variation + offset
            composition = compose_portrait(
                prepared,
                request.style,
                size,
                seed=request.seed,
                variation_index=variation_index,
                retouch_strength=request.retouch_strength,
            )
            data = encode_image(composition.image, request.output_format)
            images.append(
                RenderedImage(
                    data=data,
                    format=request.output_format,
                    mime=OUTPUT_FORMATS[request.output_format],
                    width=size[0],
                    height=size[1],
                    seed=request.seed,
                    engine=self.name,
                    model=self.model,
                    metadata=portrait_metadata(request, composition, variation_index),
                )
            )
        return images

    def compose(self, request: RenderRequest) -> Composition:
        """The first frame of a request before encoding (for checks and tests)."""
        prepared = _prepared_cache.get(request.source)
        return compose_portrait(
            prepared,
            request.style,
            request.size,
            seed=request.seed,
            variation_index=request.variation,
            retouch_strength=request.retouch_strength,
        )


def with_seed(request: RenderRequest, seed: int) -> RenderRequest:
    return replace(request, seed=seed)
