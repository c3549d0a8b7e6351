"""The character studio's engine side: a template (single framing or a 3x3 sheet) in an
art style, from a reference photo. The local engine frames the reference with the
studio pipeline and applies the art style as a filter; it reuses the reference face and
cannot change expression or pose (the metadata says so, and local sheet panels are
marked "reference"). A remote engine renders each panel from its own recorded prompt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .art_styles import ART_STYLES, apply_art_style
from .identity import aligned_face, cosine, embed_face_crop
from .imaging import as_rgb_array, encode_image, load_image
from .interface import OUTPUT_FORMATS, Engine, RenderedImage, RenderRequest, StyleSpec, output_size
from .similarity import ssim
from .studio import ENGINE_NAME as STUDIO
from .studio import MODEL_NAME, _prepared_cache, compose_portrait
from .templates import CHARACTER_ASPECT_RATIOS, TEMPLATES, Panel, Template
from .vision import analyse_faces

SHEET_BACKGROUND = (246, 244, 240)
LABEL_COLOUR = (34, 34, 38)
NOTE_COLOUR = (120, 120, 126)
NEGATIVE_PROMPT = (
    "blurry, low quality, distorted face, extra limbs, deformed hands, different person, "
    "inconsistent outfit, text, watermark"
)
LOCAL_NOTE = (
    "Local filter engine: every panel reuses the reference photo's face, expression and "
    "pose; only framing, backdrop, mood grade and the art-style filter differ. A "
    "generative engine renders the panel prompts for real expressions and poses."
)


@dataclass(frozen=True)
class CharacterRequest:
    reference: bytes = field(repr=False)
    art_style: str = "realistic"
    template: str = "headshot"
    aspect_ratio: str = "1:1"
    quality: str = "standard"
    seed: int = 0
    description: str = ""
    character_name: str = ""
    background: bytes | None = field(default=None, repr=False)
    output_format: str = "png"

    def __post_init__(self) -> None:
        if self.art_style not in ART_STYLES:
            raise ValueError(f"unknown art style {self.art_style!r}")
        if self.template not in TEMPLATES:
            raise ValueError(f"unknown template {self.template!r}")
        if self.aspect_ratio not in CHARACTER_ASPECT_RATIOS:
            raise ValueError(f"unknown aspect ratio {self.aspect_ratio!r}")
        if self.output_format not in OUTPUT_FORMATS:
            raise ValueError(f"unknown output format {self.output_format!r}")


@dataclass(frozen=True)
class CharacterRender:
    image: RenderedImage
    panels: list[dict[str, Any]]  # label, prompt, seed, box (x, y, w, h) per panel


def panel_prompt(request: CharacterRequest, panel: Panel) -> str:
    parts = [ART_STYLES[request.art_style].prompt, panel.prompt]
    if request.character_name:
        parts.append(f"character named {request.character_name}")
    if request.description:
        parts.append(request.description.strip())
    parts.append("same character as the reference image, consistent face, hair, outfit and colours")
    return ", ".join(parts)


def _layout(
    template: Template, size: tuple[int, int]
) -> tuple[list[tuple[int, int, int, int]], int]:
    """Panel boxes (x, y, w, h) and the label strip height for a sheet of `size`."""
    width, height = size
    if not template.is_grid:
        return [(0, 0, width, height)], 0
    gap = max(6, round(min(width, height) * 0.012))
    label_h = max(18, round(min(width, height) * 0.045))
    cell_w = (width - gap * (template.columns + 1)) // template.columns
    cell_h = (height - gap * (template.rows + 1)) // template.rows
    boxes = []
    for row in range(template.rows):
        for col in range(template.columns):
            x = gap + col * (cell_w + gap)
            y = gap + row * (cell_h + gap)
            boxes.append((x, y, cell_w, cell_h - label_h))
    return boxes, label_h


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType: fixed-size bitmap font
        return ImageFont.load_default()


def _backdrop_style(request: CharacterRequest) -> StyleSpec:
    if request.background:
        return StyleSpec(
            "character",
            "Character",
            "",
            backdrop="custom",
            custom_backdrop=request.background,
            retouch=0.2,
        )
    # Flat-colour styles posterize a graded backdrop into visible bands: give them white.
    backdrop = {
        "cyberpunk": "gradient",
        "ghibli": "outdoor",
        "disney": "outdoor",
        "anime": "white",
        "sketch": "white",
    }.get(request.art_style, "studio_grey")
    brand = "#5B2A86" if request.art_style == "cyberpunk" else None
    return StyleSpec(
        "character", "Character", "", backdrop=backdrop, brand_color=brand, retouch=0.2
    )


def _over_shoulder(image: np.ndarray) -> np.ndarray:
    """A dark, out-of-focus foreground shoulder on the left third (painted, and the
    metadata says it is)."""
    height, width = image.shape[:2]
    mask = np.zeros((height, width), np.float32)
    cv2.ellipse(
        mask,
        (round(width * 0.02), round(height * 1.02)),
        (round(width * 0.34), round(height * 0.62)),
        0,
        0,
        360,
        1.0,
        -1,
    )
    mask = cv2.GaussianBlur(mask, (0, 0), width / 40)[:, :, None]
    shade = np.array([22, 22, 26], np.float32)
    return (image.astype(np.float32) * (1 - 0.92 * mask) + shade * 0.92 * mask).astype(np.uint8)


def _local_panel(
    request: CharacterRequest, template: Template, panel: Panel, size: tuple[int, int]
) -> np.ndarray:
    prepared = _prepared_cache.get(request.reference)
    composition = compose_portrait(
        prepared,
        _backdrop_style(request),
        size,
        seed=request.seed,
        framing=panel.framing,
        grade_name=panel.grade,
        light_name=panel.light,
        x_offset=panel.x_offset,
        max_zoom=8.0,  # a bust photo cannot become full body: frame what the photo has
    )
    image = composition.image
    if template.over_shoulder:
        image = _over_shoulder(image)
    return apply_art_style(image, request.art_style, request.seed)


def _remote_panel(
    engine: Engine, request: CharacterRequest, prompt: str, seed: int, size: tuple[int, int]
) -> np.ndarray:
    style = StyleSpec(
        slug=f"character-{request.template}",
        name="Character",
        prompt=prompt,
        negative_prompt=NEGATIVE_PROMPT,
    )
    ratio = (
        "1:1"
        if abs(size[0] - size[1]) < 0.1 * max(size)
        else ("3:4" if size[1] > size[0] else "4:3")
    )
    [rendered] = engine.render(
        RenderRequest(
            source=request.reference,
            style=style,
            aspect_ratio=ratio,
            seed=seed,
            output_format="png",
        )
    )[:1]
    picture = load_image(rendered.data)
    scale = max(size[0] / picture.width, size[1] / picture.height)
    cw, ch = size[0] / scale, size[1] / scale
    x0, y0 = (picture.width - cw) / 2, (picture.height - ch) * 0.35
    return np.asarray(
        picture.resize(size, Image.Resampling.LANCZOS, box=(x0, y0, x0 + cw, y0 + ch))
    )


def render_character(request: CharacterRequest, engine: Engine | None = None) -> CharacterRender:
    """Render a character template. `engine` None or the studio engine -> local
    filters; any other engine renders each panel from its prompt."""
    template = TEMPLATES[request.template]
    local = engine is None or engine.name == STUDIO
    size = output_size(request.aspect_ratio, request.quality)
    boxes, label_h = _layout(template, size)
    sheet = Image.new("RGB", size, SHEET_BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    font = _font(max(12, round(label_h * 0.62))) if label_h else None
    note_font = _font(max(10, round(label_h * 0.42))) if label_h else None
    panels: list[dict[str, Any]] = []
    for index, (panel, box) in enumerate(zip(template.panels, boxes, strict=False)):
        seed = request.seed if template.lock_seed else request.seed + index
        prompt = panel_prompt(request, panel)
        x, y, w, h = box
        if local:
            pixels = _local_panel(request, template, panel, (w, h))
        else:
            pixels = _remote_panel(engine, request, prompt, seed, (w, h))  # type: ignore[arg-type]
        sheet.paste(Image.fromarray(pixels), (x, y))
        if template.is_grid and font is not None:
            draw.text((x + 6, y + h + label_h * 0.12), panel.label, fill=LABEL_COLOUR, font=font)
            if local:
                note = "reference face"
                text_w = draw.textlength(note, font=note_font)
                draw.text(
                    (x + w - text_w - 6, y + h + label_h * 0.3),
                    note,
                    fill=NOTE_COLOUR,
                    font=note_font,
                )
        panels.append({"label": panel.label, "prompt": prompt, "seed": seed, "box": [x, y, w, h]})
    data = encode_image(np.asarray(sheet), request.output_format)
    engine_name = STUDIO if local else engine.name  # type: ignore[union-attr]
    art = ART_STYLES[request.art_style]
    metadata: dict[str, Any] = {
        "engine": engine_name,
        "model": MODEL_NAME if local else getattr(engine, "model", ""),
        "art_style": request.art_style,
        "template": request.template,
        "aspect_ratio": request.aspect_ratio,
        "seed": request.seed,
        "seed_locked": template.lock_seed,
        "grid": [template.columns, template.rows] if template.is_grid else None,
        "labels": [panel["label"] for panel in panels],
        "panels": panels,
        "negative_prompt": NEGATIVE_PROMPT,
        "generative": not local,
    }
    if local:
        metadata["note"] = LOCAL_NOTE
        metadata["art_style_filter"] = art.local_note
        metadata["can_change_expression_or_pose"] = False
        if template.over_shoulder:
            metadata["painted_elements"] = ["out-of-focus foreground shoulder"]
    image = RenderedImage(
        data=data,
        format=request.output_format,
        mime=OUTPUT_FORMATS[request.output_format],
        width=size[0],
        height=size[1],
        seed=request.seed,
        engine=engine_name,
        model=metadata["model"],
        metadata=metadata,
    )
    return CharacterRender(image=image, panels=panels)


def _face_crop_and_embedding(image: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    analysis = analyse_faces(image)
    if analysis.landmarks is None:
        return None
    crop = aligned_face(image, analysis.landmarks)
    return crop, embed_face_crop(crop)


def reference_consistency(
    reference: Image.Image | np.ndarray | bytes, result: Image.Image | np.ndarray | bytes
) -> dict[str, float | None]:
    """How closely a result keeps the reference character: identity (FaceNet cosine)
    and SSIM over the aligned face region. None where a face is missing."""
    first = _face_crop_and_embedding(as_rgb_array(reference))
    second = _face_crop_and_embedding(as_rgb_array(result))
    if first is None or second is None:
        return {"identity": None, "ssim": None}
    return {
        "identity": round(cosine(first[1], second[1]), 4),
        "ssim": round(ssim(first[0], second[0]), 4),
    }


__all__ = [
    "ART_STYLES",
    "TEMPLATES",
    "CharacterRender",
    "CharacterRequest",
    "reference_consistency",
    "render_character",
]
