"""Engine registry and presets: studio unless a provider key is configured; a missing
key never breaks listing or import."""

from __future__ import annotations

import subprocess
import sys

import pytest

from generation import (
    DEFAULT_STYLES,
    ENGINE_NAMES,
    EngineUnavailable,
    ProviderSettings,
    available_engines,
    engine_description,
    engine_for_preset,
    get_engine,
    preset_engine_name,
)


def test_without_keys_every_preset_runs_on_studio() -> None:
    for preset in ("best", "balanced", "fast"):
        assert engine_for_preset(preset, ProviderSettings()).name == "studio"


def test_remote_engines_without_keys_are_listed_unavailable_with_a_reason() -> None:
    rows = {name: (ok, reason) for name, ok, reason in available_engines(ProviderSettings())}
    assert set(rows) == set(ENGINE_NAMES)
    assert rows["studio"][0] is True
    for name in ("openai", "stability", "replicate", "fal"):
        assert rows[name][0] is False
        assert "not set" in rows[name][1]


def test_presets_prefer_configured_providers() -> None:
    settings = ProviderSettings.from_mapping(
        {"OPENAI_API_KEY": "sk-x", "REPLICATE_API_TOKEN": "r8_x"}
    )
    assert preset_engine_name("best", settings) == "openai"
    assert preset_engine_name("fast", settings) == "replicate"
    assert preset_engine_name("balanced", settings) == "replicate"


def test_explicit_preset_mapping_wins_when_available() -> None:
    settings = ProviderSettings(openai_api_key="sk", fal_key="k", preset_engines={"best": "fal"})
    assert preset_engine_name("best", settings) == "fal"


def test_explicit_mapping_to_an_unconfigured_engine_falls_back() -> None:
    settings = ProviderSettings(preset_engines={"best": "openai"})
    assert preset_engine_name("best", settings) == "studio"


def test_engine_preset_setting_is_the_default_preset() -> None:
    settings = ProviderSettings.from_mapping(
        {"ENGINE_PRESET": "fast", "FAL_KEY": "k", "OPENAI_API_KEY": "sk"}
    )
    assert preset_engine_name(None, settings) == "fal"


def test_unknown_engine_and_preset_are_refused() -> None:
    with pytest.raises(EngineUnavailable):
        get_engine("midjourney")
    with pytest.raises(EngineUnavailable):
        preset_engine_name("cheapest")


def test_from_mapping_ignores_empty_and_unknown_values() -> None:
    settings = ProviderSettings.from_mapping(
        {"OPENAI_API_KEY": "", "FAL_KEY": None, "SECRET_KEY": "x"}
    )
    assert settings.openai_api_key == "" and settings.fal_key == ""


def test_every_engine_has_a_human_description() -> None:
    assert "does not" in engine_description("studio") or "keeps" in engine_description("studio")
    assert "may change" in engine_description("openai")


def test_importing_generation_does_not_import_django_or_load_models() -> None:
    code = (
        "import sys, generation; "
        "assert 'django' not in sys.modules, 'django imported'; "
        "assert 'mediapipe' not in sys.modules, 'models loaded at import'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=60)


def test_default_styles_cover_the_eleven_seed_styles() -> None:
    slugs = [style.slug for style in DEFAULT_STYLES]
    assert slugs == [
        "corporate", "casual-professional", "executive", "creative-professional", "medical",
        "legal", "linkedin", "actor", "model", "editorial", "cinematic",
    ]  # fmt: skip
    premium = {style.slug for style in DEFAULT_STYLES if style.is_premium}
    assert premium == {"executive", "actor", "model", "editorial", "cinematic"}
    assert all(style.prompt and style.negative_prompt for style in DEFAULT_STYLES)


def test_engines_have_names_for_pages() -> None:
    from generation.registry import engine_label

    assert engine_label("studio") == "Studio engine"
    assert engine_label("openai") == "OpenAI images"
    assert engine_label("something-retired") == "something-retired"
