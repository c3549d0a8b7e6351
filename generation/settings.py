"""Provider settings, passed in by the caller (the Django side builds them from its
settings); nothing here reads the environment or imports Django."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

PRESETS = ("best", "balanced", "fast")

# Environment-style names (DESIGN.md's operator contract) -> field names.
_ENV_NAMES = {
    "REPLICATE_API_TOKEN": "replicate_api_token",
    "OPENAI_API_KEY": "openai_api_key",
    "STABILITY_API_KEY": "stability_api_key",
    "FAL_KEY": "fal_key",
    "ENGINE_PRESET": "engine_preset",
}


@dataclass(frozen=True)
class ProviderSettings:
    # Replicate: a model ("owner/name", official models endpoint) or a version id.
    replicate_api_token: str = ""
    replicate_model: str = "black-forest-labs/flux-kontext-pro"
    replicate_version: str = ""
    replicate_image_input: str = "input_image"  # the model's input field for the photo
    replicate_base_url: str = "https://api.replicate.com"
    replicate_webhook_url: str = ""
    replicate_wait_seconds: int = 0  # >0 sends "Prefer: wait=N" (sync mode, 1-60)
    # OpenAI images edit.
    openai_api_key: str = ""
    openai_base_url: str = "https://api.openai.com"
    openai_model: str = "gpt-image-1"
    openai_quality: str = "high"
    # Stability image-to-image.
    stability_api_key: str = ""
    stability_base_url: str = "https://api.stability.ai"
    stability_model: str = "sd3.5-large"
    stability_strength: float = 0.35  # low: keep the person, restyle the photo
    # fal queue.
    fal_key: str = ""
    fal_queue_url: str = "https://queue.fal.run"
    fal_model: str = "fal-ai/flux-pro/kontext"
    fal_image_input: str = "image_url"
    # Engine choice.
    engine_preset: str = "balanced"
    preset_engines: Mapping[str, str] = field(default_factory=dict)  # e.g. {"best": "openai"}
    # HTTP behaviour.
    connect_timeout: float = 5.0
    read_timeout: float = 120.0
    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    retry_after_cap: float = 30.0
    poll_interval: float = 1.0
    poll_timeout: float = 300.0
    max_download_bytes: int = 40 * 1024 * 1024

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> ProviderSettings:
        """Build from a dict of field names or environment-style names
        (REPLICATE_API_TOKEN, OPENAI_API_KEY, STABILITY_API_KEY, FAL_KEY,
        ENGINE_PRESET); unknown keys are ignored, None and "" mean "not set"."""
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, value in (values or {}).items():
            name = _ENV_NAMES.get(key, key.lower() if key.isupper() else key)
            if name in known and value is not None and value != "":
                kwargs[name] = value
        return cls(**kwargs)

    def timeouts(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)
