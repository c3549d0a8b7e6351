"""Remote generative engines (Replicate, OpenAI images edit, Stability, fal)."""

from .base import RemoteEngine
from .fal import FalEngine
from .openai_images import OpenAIImagesEngine
from .replicate import (
    ReplicateEngine,
    ReplicatePrediction,
    parse_replicate_webhook,
    verify_replicate_webhook,
)
from .stability import StabilityEngine

__all__ = [
    "FalEngine",
    "OpenAIImagesEngine",
    "RemoteEngine",
    "ReplicateEngine",
    "ReplicatePrediction",
    "StabilityEngine",
    "parse_replicate_webhook",
    "verify_replicate_webhook",
]
