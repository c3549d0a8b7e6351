"""The default look table for the eleven headshot styles. The Django app seeds its
HeadshotStyle rows from DEFAULT_STYLES; staff then edit them in admin.

Prompts for the first four come from the original headshot plan; the other seven follow
the same form. The prompt and negative prompt are what a generative provider receives;
the backdrop, grade, light, framing and retouch are what the local studio engine does.
"""

from __future__ import annotations

from .interface import StyleSpec

BASE_NEGATIVE_PROMPT = (
    "blurry, low quality, distorted face, multiple people, full body, landscape, "
    "cluttered background, amateur photography, poor lighting, noise, artifacts"
)
DEFAULT_BASE_COST = 3  # credits at standard quality; premium styles add a surcharge

QUALITY_PROMPT_MODIFIERS = {
    "standard": "professional photography",
    "high": "high-quality professional photography, sharp focus",
    "ultra": "ultra high-quality professional photography, sharp focus, studio lighting, "
    "commercial grade",
}


def _negative(extra: str = "") -> str:
    return f"{BASE_NEGATIVE_PROMPT}, {extra}" if extra else BASE_NEGATIVE_PROMPT


DEFAULT_STYLES: tuple[StyleSpec, ...] = (
    StyleSpec(
        slug="corporate",
        name="Corporate",
        description="Professional business headshots with formal attire",
        prompt="Professional corporate headshot, business attire, clean white background, "
        "professional studio lighting, confident expression, high quality portrait photography",
        negative_prompt=_negative("casual clothing, harsh shadows"),
        backdrop="white",
        grade="clean",
        light="soft",
        framing=0.32,
        retouch=0.5,
        brighten_eyes=True,
        category="business",
    ),
    StyleSpec(
        slug="casual-professional",
        name="Casual Professional",
        description="Smart casual professional portraits",
        prompt="Smart casual professional headshot, business casual attire, clean background, "
        "natural lighting, approachable expression, professional photography",
        negative_prompt=_negative("formal suit, stiff pose"),
        backdrop="office_blur",
        grade="warm",
        light="soft",
        framing=0.28,
        retouch=0.4,
        category="business",
    ),
    StyleSpec(
        slug="executive",
        name="Executive",
        description="High-end executive portraits with commanding presence",
        prompt="Executive portrait, luxury business attire, dramatic professional lighting, "
        "commanding presence, high-end professional photography, premium quality",
        negative_prompt=_negative("casual clothing, flat lighting, busy background"),
        backdrop="gradient",
        grade="executive",
        light="rembrandt",
        framing=0.30,
        retouch=0.45,
        brighten_eyes=True,
        is_premium=True,
        category="business",
    ),
    StyleSpec(
        slug="creative-professional",
        name="Creative Professional",
        description="Creative industry professional portraits",
        prompt="Creative professional headshot, stylish modern attire, artistic lighting, "
        "creative background, expressive confident look, high-end photography",
        negative_prompt=_negative("boring corporate look, plain grey background"),
        backdrop="gradient",
        brand_color="#3E5C76",
        grade="vivid",
        light="dramatic",
        framing=0.27,
        retouch=0.4,
        category="creative",
    ),
    StyleSpec(
        slug="medical",
        name="Medical",
        description="Trustworthy portraits for doctors, nurses and clinics",
        prompt="Professional medical headshot, clean clinical attire or white coat, bright "
        "clean background, soft even lighting, warm trustworthy expression, high quality "
        "portrait photography",
        negative_prompt=_negative("dark moody lighting, casual clothing, hospital clutter"),
        backdrop="white",
        grade="clinical",
        light="flat",
        framing=0.31,
        retouch=0.45,
        brighten_eyes=True,
        brighten_teeth=True,
        category="specialized",
    ),
    StyleSpec(
        slug="legal",
        name="Legal",
        description="Authoritative portraits for lawyers and advisers",
        prompt="Professional legal headshot, formal business suit, softly blurred law office "
        "background, refined professional lighting, composed authoritative expression, high "
        "quality portrait photography",
        negative_prompt=_negative("casual clothing, bright colours, playful expression"),
        backdrop="office_blur",
        grade="executive",
        light="rembrandt",
        framing=0.30,
        retouch=0.4,
        category="specialized",
    ),
    StyleSpec(
        slug="linkedin",
        name="LinkedIn Optimized",
        description="Tight, bright, friendly framing that reads well as a small avatar",
        prompt="LinkedIn profile headshot, business casual attire, neutral grey studio "
        "background, bright even lighting, friendly approachable smile, face filling the "
        "frame, high quality portrait photography",
        negative_prompt=_negative("distant framing, dark background, sunglasses"),
        backdrop="studio_grey",
        grade="clean",
        light="bright",
        framing=0.36,
        retouch=0.5,
        brighten_eyes=True,
        brighten_teeth=True,
        category="specialized",
    ),
    StyleSpec(
        slug="actor",
        name="Actor",
        description="Casting headshots: true to life, expressive, minimal retouching",
        prompt="Professional actor headshot for casting, natural look, neutral studio "
        "background, soft theatrical lighting, expressive engaging eyes, true to life skin, "
        "high-end portrait photography",
        negative_prompt=_negative("heavy retouching, plastic skin, heavy makeup"),
        backdrop="studio_grey",
        grade="film",
        light="soft",
        framing=0.31,
        retouch=0.2,
        brighten_eyes=True,
        is_premium=True,
        category="entertainment",
    ),
    StyleSpec(
        slug="model",
        name="Model",
        description="Polished portfolio portraits with bright high-key light",
        prompt="Model portfolio headshot, fashion styling, bright high-key white background, "
        "beauty lighting, polished flawless look, high fashion portrait photography",
        negative_prompt=_negative("harsh shadows, dull colours, casual snapshot"),
        backdrop="white",
        grade="high_key",
        light="bright",
        framing=0.27,
        retouch=0.6,
        brighten_eyes=True,
        brighten_teeth=True,
        is_premium=True,
        category="entertainment",
    ),
    StyleSpec(
        slug="editorial",
        name="Editorial",
        description="Magazine-style environmental portraits with room around the subject",
        prompt="Editorial magazine portrait, stylish attire, soft natural outdoor light, "
        "shallow depth of field, candid confident expression, looser environmental framing, "
        "high-end editorial photography",
        negative_prompt=_negative("studio backdrop, flash, tight crop"),
        backdrop="outdoor",
        grade="matte",
        light="soft",
        framing=0.22,
        retouch=0.35,
        is_premium=True,
        category="premium",
    ),
    StyleSpec(
        slug="cinematic",
        name="Cinematic",
        description="Moody film-still portraits with a teal and orange grade",
        prompt="Cinematic portrait, film still, moody dramatic lighting, teal and orange "
        "colour grade, shallow depth of field, intense expression, anamorphic look, high-end "
        "cinematography",
        negative_prompt=_negative("flat lighting, oversaturated, cartoon"),
        backdrop="gradient",
        brand_color="#2C4A52",
        grade="teal_orange",
        light="dramatic",
        framing=0.27,
        retouch=0.35,
        is_premium=True,
        category="premium",
    ),
)

STYLES_BY_SLUG: dict[str, StyleSpec] = {style.slug: style for style in DEFAULT_STYLES}


def style_by_slug(slug: str) -> StyleSpec:
    try:
        return STYLES_BY_SLUG[slug]
    except KeyError:
        raise KeyError(f"unknown style {slug!r}") from None


def build_prompt(style: StyleSpec, quality: str = "standard") -> str:
    """The full prompt a generative provider receives for a headshot."""
    modifier = QUALITY_PROMPT_MODIFIERS.get(quality, QUALITY_PROMPT_MODIFIERS["standard"])
    return (
        f"{style.prompt}, {modifier}, headshot, portrait, professional, clean composition, "
        "same person as the reference photo, keep facial features and identity unchanged"
    )


def build_negative_prompt(style: StyleSpec) -> str:
    return style.negative_prompt or BASE_NEGATIVE_PROMPT
