"""Image engines and checks for headshots and characters. Plain Python: no Django.

The Django apps call:
- `inspect_upload(data)` before holding credits;
- `engine_for_preset(preset, settings)` / `get_engine(name, settings)` and
  `render_checked(engine, request, threshold=...)` (or `engine.render(request)`);
- `DEFAULT_STYLES` to seed their style rows;
- `render_character(...)` and `reference_consistency(...)` for the character studio.
"""

from .characters import (
    ART_STYLES,
    TEMPLATES,
    CharacterRender,
    CharacterRequest,
    reference_consistency,
    render_character,
)
from .checks import CheckedImage, CheckedRender, quality_score, render_checked
from .errors import BadImage, CheckFailed, EngineUnavailable, GenerationError, NoFace, ProviderError
from .identity import DEFAULT_IDENTITY_THRESHOLD, face_embedding, identity_similarity
from .imaging import derive_seed, encode_image, keep_as_jpeg, load_image
from .inspection import Inspection, Issue, inspect_upload
from .interface import (
    ASPECT_RATIOS,
    BACKDROP_KINDS,
    HEADSHOT_ASPECT_RATIOS,
    OUTPUT_FORMATS,
    QUALITY_LONG_SIDE,
    Availability,
    Engine,
    RenderedImage,
    RenderRequest,
    StyleSpec,
    output_size,
)
from .providers import parse_replicate_webhook, verify_replicate_webhook
from .registry import (
    ENGINE_NAMES,
    available_engines,
    engine_description,
    engine_for_preset,
    get_engine,
    preset_engine_name,
)
from .settings import PRESETS, ProviderSettings
from .styles import DEFAULT_STYLES, build_negative_prompt, build_prompt, style_by_slug

__all__ = [
    "ART_STYLES",
    "ASPECT_RATIOS",
    "BACKDROP_KINDS",
    "DEFAULT_IDENTITY_THRESHOLD",
    "DEFAULT_STYLES",
    "ENGINE_NAMES",
    "HEADSHOT_ASPECT_RATIOS",
    "OUTPUT_FORMATS",
    "PRESETS",
    "QUALITY_LONG_SIDE",
    "TEMPLATES",
    "Availability",
    "BadImage",
    "CharacterRender",
    "CharacterRequest",
    "CheckFailed",
    "CheckedImage",
    "CheckedRender",
    "Engine",
    "EngineUnavailable",
    "GenerationError",
    "Inspection",
    "Issue",
    "NoFace",
    "ProviderError",
    "ProviderSettings",
    "RenderRequest",
    "RenderedImage",
    "StyleSpec",
    "available_engines",
    "build_negative_prompt",
    "build_prompt",
    "derive_seed",
    "encode_image",
    "engine_description",
    "engine_for_preset",
    "face_embedding",
    "get_engine",
    "identity_similarity",
    "inspect_upload",
    "keep_as_jpeg",
    "load_image",
    "output_size",
    "parse_replicate_webhook",
    "preset_engine_name",
    "quality_score",
    "reference_consistency",
    "render_character",
    "render_checked",
    "style_by_slug",
    "verify_replicate_webhook",
]
