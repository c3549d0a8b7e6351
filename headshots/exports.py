"""Files a member takes away: one image in a chosen format, or a ZIP of a whole generation."""

from __future__ import annotations

import io
import json
import zipfile

from PIL import Image, ImageDraw, ImageFont

from headshots.models import GeneratedImage, HeadshotGeneration

FORMATS = {
    "jpeg": ("JPEG", "image/jpeg", "jpg"),
    "png": ("PNG", "image/png", "png"),
    "webp": ("WEBP", "image/webp", "webp"),
}
EXPORT_SIZES = (None, 1024, 512, 256)  # None: full size


def _open(image: GeneratedImage) -> Image.Image:
    with image.image.open("rb") as handle:
        picture = Image.open(io.BytesIO(handle.read()))
        picture.load()
    return picture.convert("RGB")


def _watermark(picture: Image.Image) -> Image.Image:
    marked = picture.copy()
    draw = ImageDraw.Draw(marked, "RGBA")
    size = max(14, marked.width // 28)
    font = ImageFont.load_default(size=size)
    text = "Portrait Studio preview"
    box = draw.textbbox((0, 0), text, font=font)
    x = marked.width - (box[2] - box[0]) - size
    y = marked.height - (box[3] - box[1]) - size
    draw.text((x, y), text, font=font, fill=(255, 255, 255, 150))
    return marked


def _encode(picture: Image.Image, fmt: str) -> bytes:
    pil_format = FORMATS[fmt][0]
    out = io.BytesIO()
    kwargs = {"quality": 92} if pil_format in ("JPEG", "WEBP") else {}
    picture.save(out, format=pil_format, dpi=(300, 300), **kwargs)
    return out.getvalue()


def image_as(image: GeneratedImage, fmt: str, *, watermark: bool = False) -> tuple[bytes, str, str]:
    """(bytes, content type, file name) of one image in jpeg, png or webp."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    picture = _open(image)
    if watermark:
        picture = _watermark(picture)
    _, mime, ext = FORMATS[fmt]
    name = f"headshot-{image.generation_id}-{image.index + 1}.{ext}"
    return _encode(picture, fmt), mime, name


def generation_zip(
    generation: HeadshotGeneration, images: list[GeneratedImage], *, watermark: bool
) -> bytes:
    """Every image in several sizes, plus metadata.json describing how each was made."""
    buffer = io.BytesIO()
    meta = {
        "generation": generation.pk,
        "style": generation.style.slug,
        "aspect_ratio": generation.aspect_ratio,
        "quality": generation.quality,
        "created_at": generation.created_at.isoformat(),
        "credits_used": generation.credits_used,
        "images": [],
    }
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for image in images:
            picture = _open(image)
            if watermark:
                picture = _watermark(picture)
            files = []
            for size in EXPORT_SIZES:
                copy = picture.copy()
                if size and max(copy.size) > size:
                    copy.thumbnail((size, size), Image.Resampling.LANCZOS)
                elif size:
                    continue
                label = "full" if size is None else f"{size}px"
                name = f"headshot-{image.index + 1}/{label}.jpg"
                archive.writestr(name, _encode(copy, "jpeg"))
                files.append({"file": name, "width": copy.width, "height": copy.height})
            meta["images"].append(
                {
                    "index": image.index,
                    "seed": image.seed,
                    "engine": image.engine,
                    "model": image.model_name,
                    "identity_score": image.identity_score,
                    "quality_score": image.quality_score,
                    "files": files,
                }
            )
        archive.writestr("metadata.json", json.dumps(meta, indent=2))
    return buffer.getvalue()
