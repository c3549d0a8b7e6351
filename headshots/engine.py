"""The seam between headshots and the `generation` package: Django rows in, plain values out.

Only this module knows the generation API, so an engine change touches one file.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.conf import settings

import generation
from generation.errors import GenerationError
from headshots.models import Backdrop, HeadshotStyle, TeamStylePolicy
from staff.selectors import site_settings


@dataclass(frozen=True)
class InspectionResult:
    ok: bool
    score: int
    reasons: list[str]

    def as_dict(self) -> dict:
        return {"ok": self.ok, "score": self.score, "reasons": self.reasons}


@dataclass(frozen=True)
class RenderOutcome:
    jpeg: bytes
    webp: bytes
    thumbnail: bytes
    width: int
    height: int
    seed: int
    engine: str
    model: str
    attempts: int
    identity_score: float | None
    quality_score: float | None
    metadata: dict


EngineError = GenerationError


def provider_settings() -> generation.ProviderSettings:
    return generation.ProviderSettings(
        engine_preset=site_settings().engine_preset,
        replicate_api_token=settings.REPLICATE_API_TOKEN,
        openai_api_key=settings.OPENAI_API_KEY,
        stability_api_key=settings.STABILITY_API_KEY,
        fal_key=settings.FAL_KEY,
    )


def inspect(data: bytes) -> InspectionResult:
    """Score an upload before any credit is held; a bad image is a failed inspection, not a 500."""
    try:
        found = generation.inspect_upload(data)
    except GenerationError as error:
        return InspectionResult(ok=False, score=0, reasons=[error.message])
    return InspectionResult(ok=bool(found.ok), score=int(found.score), reasons=list(found.reasons))


def normalise(data: bytes, *, inspected: bool = False) -> bytes:
    """The upload as we keep it: upright, RGB, JPEG, with no EXIF (GPS) at all.
    `inspected`: these bytes passed `inspect`, which decoded them in full."""
    return generation.keep_as_jpeg(data, decoded=inspected)


def style_spec(style: HeadshotStyle, policy: TeamStylePolicy | None = None) -> generation.StyleSpec:
    backdrop, color, custom = style.backdrop, style.backdrop_color or None, None
    if policy is not None and policy.backdrop:
        backdrop, color = policy.backdrop, policy.backdrop_color or None
        if policy.backdrop == Backdrop.CUSTOM and policy.backdrop_image:
            with policy.backdrop_image.open("rb") as handle:
                custom = handle.read()
    if backdrop == Backdrop.BRAND and not color:
        backdrop = Backdrop.STUDIO_GREY  # a brand backdrop without a colour: fall back, don't fail
    if backdrop == Backdrop.CUSTOM and not custom:
        backdrop = Backdrop.STUDIO_GREY
    return generation.StyleSpec(
        slug=style.slug,
        name=style.name,
        prompt=style.prompt_template,
        negative_prompt=style.negative_prompt,
        description=style.description,
        backdrop=backdrop,
        brand_color=color,
        custom_backdrop=custom,
        grade=style.grade,
        light=style.light,
        framing=style.framing,
        retouch=style.retouch,
        brighten_eyes=style.brighten_eyes,
        brighten_teeth=style.brighten_teeth,
        is_premium=style.is_premium,
        category=style.category,
    )


def render_one(
    *,
    source: bytes,
    spec: generation.StyleSpec,
    aspect_ratio: str,
    quality: str,
    seed: int,
    variation: int,
    identity_threshold: float | None = None,
) -> RenderOutcome:
    """One delivered image (re-rendered on a failed identity check), in every format we store."""
    engine = generation.engine_for_preset(site_settings().engine_preset, provider_settings())
    request = generation.RenderRequest(
        source=source,
        style=spec,
        aspect_ratio=aspect_ratio,
        quality=quality,
        seed=seed,
        variation=variation,
        output_format="jpeg",
    )
    checked = generation.render_checked(
        engine,
        request,
        threshold=identity_threshold
        if identity_threshold is not None
        else site_settings().identity_threshold,
        max_attempts=settings.HEADSHOT_IDENTITY_RETRIES,
    )
    accepted = checked.images[0]
    image = accepted.image
    picture = generation.load_image(image.data)
    return RenderOutcome(
        jpeg=image.data,
        webp=_encode(picture, "WEBP"),
        thumbnail=_encode(_thumb(picture), "JPEG"),
        width=image.width,
        height=image.height,
        seed=image.seed,
        engine=image.engine,
        model=image.model,
        attempts=accepted.attempts,
        identity_score=accepted.identity,
        quality_score=accepted.quality,
        metadata=dict(image.metadata),
    )


def _thumb(picture):
    copy = picture.copy()
    copy.thumbnail((384, 384))
    return copy


def _encode(picture, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "WEBP":
        picture.save(out, format="WEBP", quality=88, method=2)
    else:
        picture.save(out, format=fmt, quality=85)
    return out.getvalue()
