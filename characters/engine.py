"""The seam between the character studio and the `generation` package: bytes and plain
values in, plain values out. Only this module knows the generation API.

Image-to-image when there is a character reference; text-to-image without one. The
local studio engine works from a reference only (it frames and restyles the photo),
so text-only requests are refused before anything is charged. `generation` has no
text-to-image entry point yet: for a remote engine a neutral grey canvas stands in for
the reference and the prompt carries the character (recorded as such in the metadata).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.conf import settings

import generation
from characters.catalog import STYLISED_ART_STYLES
from common.errors import ApplicationError
from generation.errors import CheckFailed, GenerationError

EngineError = GenerationError
STUDIO = "studio"
THUMBNAIL_SIDE = 384


@dataclass(frozen=True)
class Thresholds:
    identity: float
    stylised_identity: float
    ssim: float
    max_rerenders: int


@dataclass(frozen=True)
class Reference:
    """A normalised reference image (JPEG, upright, no EXIF) and whether it has a face."""

    jpeg: bytes = field(repr=False)
    has_face: bool


@dataclass(frozen=True)
class Outcome:
    jpeg: bytes = field(repr=False)
    thumbnail: bytes = field(repr=False)
    width: int
    height: int
    seed: int
    engine: str
    model: str
    prompt: str
    panels: list[dict[str, Any]]
    identity: float | None
    ssim: float | None
    attempts: int
    rejected: list[dict[str, Any]]
    metadata: dict[str, Any]


def provider_settings() -> generation.ProviderSettings:
    return generation.ProviderSettings(
        engine_preset=settings.ENGINE_PRESET,
        replicate_api_token=settings.REPLICATE_API_TOKEN,
        openai_api_key=settings.OPENAI_API_KEY,
        stability_api_key=settings.STABILITY_API_KEY,
        fal_key=settings.FAL_KEY,
    )


def current_engine() -> generation.Engine:
    """The engine the operator's preset picks (the studio engine without provider keys)."""
    return generation.engine_for_preset(settings.ENGINE_PRESET, provider_settings())


def is_local(engine: generation.Engine | None = None) -> bool:
    return (engine or current_engine()).name == STUDIO


def read_reference(data: bytes, *, what: str, need_face: bool) -> Reference:
    """Check and normalise a reference. `need_face`: the studio engine frames a face."""
    try:
        jpeg = generation.keep_as_jpeg(data)
    except GenerationError as error:
        raise ApplicationError(
            f"The {what} can't be used: {error.message}", code="reference_unusable"
        ) from None
    faces = generation.inspect_upload(data).faces
    if need_face and not faces:
        raise ApplicationError(
            f"The studio engine needs a clearly visible face in the {what}. Use a photo "
            "or drawing where the character's face is visible and facing the camera.",
            code="reference_no_face",
        )
    return Reference(jpeg=jpeg, has_face=bool(faces))


def read_background(data: bytes) -> bytes:
    try:
        return generation.keep_as_jpeg(data)
    except GenerationError as error:
        raise ApplicationError(
            f"The background reference can't be used: {error.message}", code="reference_unusable"
        ) from None


def neutral_canvas() -> bytes:
    """What a remote engine edits when there is no reference (text-to-image stand-in)."""
    return generation.encode_image(np.full((1024, 1024, 3), 128, np.uint8), "png")


def judge(
    scores: dict[str, float | None],
    *,
    art_style: str,
    generative: bool,
    gate: bool,
    thresholds: Thresholds,
) -> str | None:
    """None if the result keeps the reference character, else why not.

    `gate` is False when the reference has no face to compare (a remote engine may be
    given a creature or an object): the scores are then recorded, not enforced. The
    stylised art styles (anime, Ghibli-like, sketch) redraw the face beyond what FaceNet
    or SSIM can follow, so only their own low identity floor applies (it catches a lost
    face). SSIM gates the studio engine only, whose panels reuse the reference pixels.
    """
    if not gate:
        return None
    identity, ssim = scores.get("identity"), scores.get("ssim")
    if identity is None:
        return "the character's face was lost"
    if art_style in STYLISED_ART_STYLES:
        if identity < thresholds.stylised_identity:
            return f"identity {identity:.2f} below {thresholds.stylised_identity:.2f}"
        return None
    if identity < thresholds.identity:
        return f"identity {identity:.2f} below {thresholds.identity:.2f}"
    if not generative and ssim is not None and ssim < thresholds.ssim:
        return f"face SSIM {ssim:.2f} below {thresholds.ssim:.2f}"
    return None


def render(
    *,
    reference: Reference | None,
    background: bytes | None,
    template: str,
    art_style: str,
    aspect_ratio: str,
    seed: int,
    description: str,
    character_name: str,
    thresholds: Thresholds,
    on_attempt: Callable[[int, int], None] | None = None,
) -> Outcome:
    """Render a version, re-rendering with a new seed while the result drifts from the
    reference (up to `thresholds.max_rerenders` times); CheckFailed after the last."""
    engine = current_engine()
    local = is_local(engine)
    if reference is None and local:
        raise GenerationError(
            "The studio engine needs a character reference.", code="reference_required"
        )
    source = reference.jpeg if reference is not None else neutral_canvas()
    total = 1 + thresholds.max_rerenders
    rejected: list[dict[str, Any]] = []
    for attempt in range(total):
        attempt_seed = seed if attempt == 0 else generation.derive_seed(seed, "rerender", attempt)
        request = generation.CharacterRequest(
            reference=source,
            art_style=art_style,
            template=template,
            aspect_ratio=aspect_ratio,
            seed=attempt_seed,
            description=description,
            character_name=character_name,
            background=background,
            output_format="jpeg",
        )
        rendered = generation.render_character(request, None if local else engine)
        image = rendered.image
        if reference is not None:
            scores = generation.reference_consistency(reference.jpeg, image.data)
        else:
            scores = {"identity": None, "ssim": None}
        reason = judge(
            scores,
            art_style=art_style,
            generative=bool(image.metadata.get("generative")),
            gate=reference is not None and reference.has_face,
            thresholds=thresholds,
        )
        if on_attempt is not None:
            on_attempt(attempt + 1, total)
        if reason is None:
            return _outcome(
                rendered,
                scores,
                attempts=attempt + 1,
                rejected=rejected,
                text_only=reference is None,
            )
        rejected.append({"seed": attempt_seed, **scores, "reason": reason})
    raise CheckFailed(
        f"After {total} renders the result still did not match the character reference "
        f"({rejected[-1]['reason']}).",
        code="consistency_failed",
        rejected=rejected,
    )


def _outcome(
    rendered: generation.CharacterRender,
    scores: dict[str, float | None],
    *,
    attempts: int,
    rejected: list[dict[str, Any]],
    text_only: bool,
) -> Outcome:
    image = rendered.image
    picture = generation.load_image(image.data)
    thumb = picture.copy()
    thumb.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    panels = [dict(panel) for panel in rendered.panels]
    if len(panels) == 1:
        prompt = panels[0]["prompt"]
    else:
        prompt = "\n".join(f"{panel['label']}: {panel['prompt']}" for panel in panels)
    metadata = dict(image.metadata)
    metadata["mode"] = "text_to_image" if text_only else "image_to_image"
    if text_only:
        metadata["canvas"] = "neutral grey stand-in for the missing reference"
    return Outcome(
        jpeg=image.data,
        thumbnail=_encode(thumb, "JPEG", quality=85),
        width=image.width,
        height=image.height,
        seed=image.seed,
        engine=image.engine,
        model=image.model,
        prompt=prompt,
        panels=panels,
        identity=scores.get("identity"),
        ssim=scores.get("ssim"),
        attempts=attempts,
        rejected=rejected,
        metadata=_plain(metadata),
    )


def _plain(value: Any) -> Any:
    """Metadata as JSON-storable values (the engine hands back read-only mappings)."""
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def _encode(picture, fmt: str, *, quality: int) -> bytes:
    out = io.BytesIO()
    picture.save(out, format=fmt, quality=quality)
    return out.getvalue()
