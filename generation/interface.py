"""The engine interface: what a caller asks for and what comes back.

Plain frozen dataclasses so the Django apps can build them from their models and the
engines can be tested without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

BackdropKind = Literal[
    "studio_grey", "white", "office_blur", "gradient", "outdoor", "brand", "custom"
]
AspectRatio = Literal["1:1", "3:4", "4:5", "4:3", "16:9", "9:16"]
Quality = Literal["standard", "high", "ultra"]
OutputFormat = Literal["jpeg", "webp", "png"]

BACKDROP_KINDS: tuple[str, ...] = (
    "studio_grey",
    "white",
    "office_blur",
    "gradient",
    "outdoor",
    "brand",
    "custom",
)
ASPECT_RATIOS: dict[str, tuple[int, int]] = {
    "1:1": (1, 1),
    "3:4": (3, 4),
    "4:5": (4, 5),
    "4:3": (4, 3),
    "16:9": (16, 9),
    "9:16": (9, 16),
}
HEADSHOT_ASPECT_RATIOS: tuple[str, ...] = ("1:1", "3:4", "4:5")
QUALITY_LONG_SIDE: dict[str, int] = {"standard": 1024, "high": 1536, "ultra": 2048}
# Higher quality means a larger image, where the same retouch reads weaker.
QUALITY_RETOUCH_SCALE: dict[str, float] = {"standard": 0.85, "high": 1.0, "ultra": 1.1}
OUTPUT_FORMATS: dict[str, str] = {"jpeg": "image/jpeg", "webp": "image/webp", "png": "image/png"}


def output_size(aspect_ratio: str, quality: str = "standard") -> tuple[int, int]:
    """(width, height) in pixels: the long side comes from the quality."""
    if aspect_ratio not in ASPECT_RATIOS:
        raise ValueError(f"unknown aspect ratio {aspect_ratio!r}")
    if quality not in QUALITY_LONG_SIDE:
        raise ValueError(f"unknown quality {quality!r}")
    aw, ah = ASPECT_RATIOS[aspect_ratio]
    long_side = QUALITY_LONG_SIDE[quality]
    if aw >= ah:
        return long_side, round(long_side * ah / aw)
    return round(long_side * aw / ah), long_side


@dataclass(frozen=True)
class StyleSpec:
    """How a style looks. `framing` is the face height (forehead to chin) as a share of
    the frame height: larger is tighter (LinkedIn), smaller looser (editorial)."""

    slug: str
    name: str
    prompt: str
    negative_prompt: str = ""
    description: str = ""
    backdrop: str = "studio_grey"
    brand_color: str | None = None  # "#RRGGBB", for backdrop "brand"
    custom_backdrop: bytes | None = field(default=None, repr=False)  # for backdrop "custom"
    grade: str = "neutral"
    light: str = "soft"
    framing: float = 0.30
    retouch: float = 0.5  # 0 = none, 1 = strong; still gentle at 1
    brighten_eyes: bool = False
    brighten_teeth: bool = False
    is_premium: bool = False
    category: str = "business"

    def __post_init__(self) -> None:
        if self.backdrop not in BACKDROP_KINDS:
            raise ValueError(f"unknown backdrop {self.backdrop!r}")
        if self.backdrop == "brand" and not self.brand_color:
            raise ValueError("a brand backdrop needs brand_color")
        if self.backdrop == "custom" and not self.custom_backdrop:
            raise ValueError("a custom backdrop needs custom_backdrop image bytes")
        if not 0.08 <= self.framing <= 0.6:
            raise ValueError("framing is the face share of the frame height, 0.08-0.6")
        if not 0.0 <= self.retouch <= 1.0:
            raise ValueError("retouch is 0-1")


@dataclass(frozen=True)
class RenderRequest:
    """One image to make (or `count` of them, variations variation..variation+count-1)."""

    source: bytes = field(repr=False)
    style: StyleSpec
    aspect_ratio: str = "1:1"
    quality: str = "standard"
    seed: int = 0
    variation: int = 0
    output_format: str = "jpeg"
    count: int = 1

    def __post_init__(self) -> None:
        if self.aspect_ratio not in ASPECT_RATIOS:
            raise ValueError(f"unknown aspect ratio {self.aspect_ratio!r}")
        if self.quality not in QUALITY_LONG_SIDE:
            raise ValueError(f"unknown quality {self.quality!r}")
        if self.output_format not in OUTPUT_FORMATS:
            raise ValueError(f"unknown output format {self.output_format!r}")
        if not 1 <= self.count <= 8:
            raise ValueError("count is 1-8")
        if self.seed < 0 or self.variation < 0:
            raise ValueError("seed and variation are non-negative")

    @property
    def size(self) -> tuple[int, int]:
        return output_size(self.aspect_ratio, self.quality)

    @property
    def retouch_strength(self) -> float:
        return min(1.0, self.style.retouch * QUALITY_RETOUCH_SCALE[self.quality])


@dataclass(frozen=True)
class RenderedImage:
    data: bytes = field(repr=False)
    format: str
    mime: str
    width: int
    height: int
    seed: int
    engine: str
    model: str
    metadata: dict[str, Any] = field(default_factory=dict)  # JSON-serialisable

    def __post_init__(self) -> None:
        # A plain dict copy: callers store it in a JSONField as it is.
        object.__setattr__(self, "metadata", dict(self.metadata or {}))

    @property
    def extension(self) -> str:
        return "jpg" if self.format == "jpeg" else self.format


@dataclass(frozen=True)
class Availability:
    available: bool
    reason: str = ""


@runtime_checkable
class Engine(Protocol):
    name: str
    description: str  # a short human sentence: what this engine changes and what it does not

    def availability(self) -> Availability: ...

    def render(self, request: RenderRequest) -> list[RenderedImage]: ...
