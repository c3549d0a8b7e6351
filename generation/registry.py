"""Which engines exist, which can run with the settings given, and which one a preset
picks. Listing never fails: a remote engine without its key is reported unavailable."""

from __future__ import annotations

from .errors import EngineUnavailable
from .interface import Engine
from .providers import FalEngine, OpenAIImagesEngine, ReplicateEngine, StabilityEngine
from .settings import PRESETS, ProviderSettings
from .studio import StudioEngine

DEFAULT_ENGINE = "studio"
_REMOTE = {
    "openai": OpenAIImagesEngine,
    "stability": StabilityEngine,
    "replicate": ReplicateEngine,
    "fal": FalEngine,
}
ENGINE_NAMES: tuple[str, ...] = (DEFAULT_ENGINE, *_REMOTE)

# Preference per preset among configured providers (the seeds' plan: best = OpenAI,
# balanced = Stability, fast = Replicate/fal); studio when none is configured.
PRESET_PREFERENCES: dict[str, tuple[str, ...]] = {
    "best": ("openai", "fal", "replicate", "stability"),
    "balanced": ("stability", "fal", "replicate", "openai"),
    "fast": ("fal", "replicate", "stability", "openai"),
}

_studio = StudioEngine()


def get_engine(name: str, settings: ProviderSettings | None = None) -> Engine:
    """The engine called `name`. Remote engines are returned even without a key (their
    `availability()` says why they cannot run, and `render` raises EngineUnavailable)."""
    if name == DEFAULT_ENGINE:
        return _studio
    try:
        engine_class = _REMOTE[name]
    except KeyError:
        raise EngineUnavailable(f"unknown engine {name!r}", code="unknown_engine") from None
    return engine_class(settings or ProviderSettings())


def engine_label(name: str) -> str:
    """What to call an engine on a page ("Studio engine", "OpenAI images")."""
    if name == DEFAULT_ENGINE:
        return "Studio engine"
    engine_class = _REMOTE.get(name)
    return engine_class.label if engine_class else name


def available_engines(settings: ProviderSettings | None = None) -> list[tuple[str, bool, str]]:
    """Every engine as (name, available, reason)."""
    rows = []
    for name in ENGINE_NAMES:
        availability = get_engine(name, settings).availability()
        rows.append((name, availability.available, availability.reason))
    return rows


def preset_engine_name(preset: str | None, settings: ProviderSettings | None = None) -> str:
    settings = settings or ProviderSettings()
    preset = preset or settings.engine_preset
    if preset not in PRESETS:
        raise EngineUnavailable(
            f"unknown preset {preset!r}; use one of {PRESETS}", code="unknown_preset"
        )
    available = {name for name, ok, _ in available_engines(settings) if ok}
    chosen = settings.preset_engines.get(preset)
    if chosen and chosen in available:
        return chosen
    for name in PRESET_PREFERENCES[preset]:
        if name in available:
            return name
    return DEFAULT_ENGINE


def engine_for_preset(preset: str | None, settings: ProviderSettings | None = None) -> Engine:
    """The engine a preset runs on with these settings (studio without provider keys)."""
    return get_engine(preset_engine_name(preset, settings), settings)


def engine_description(name: str) -> str:
    """A short sentence for members: what this engine does and does not change."""
    return get_engine(name).description
