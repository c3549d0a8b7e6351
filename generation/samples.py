"""Write sample outputs for a person to look at:

    python -m generation.samples OUTDIR

Every headshot style in every headshot aspect ratio, a batch of variations, every
character art style, the sheets, from skimage's astronaut photo (a dev dependency),
with an index.html.
"""

from __future__ import annotations

import html
import sys
import time
from pathlib import Path

from .characters import ART_STYLES, CharacterRequest, render_character
from .imaging import encode_image
from .interface import HEADSHOT_ASPECT_RATIOS, RenderRequest
from .studio import StudioEngine
from .styles import DEFAULT_STYLES


def _astronaut_png() -> bytes:
    try:
        from skimage import data
    except ImportError as exc:  # pragma: no cover - dev dependency
        raise SystemExit("samples need scikit-image (a dev dependency) for the test photo") from exc
    return encode_image(data.astronaut(), "png")


def _figure(path: str, caption: str) -> str:
    return (
        f'<figure><a href="{html.escape(path)}"><img src="{html.escape(path)}" loading="lazy"></a>'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def write_samples(outdir: Path) -> Path:
    outdir.mkdir(parents=True, exist_ok=True)
    source = _astronaut_png()
    (outdir / "source.png").write_bytes(source)
    engine = StudioEngine()
    sections: list[str] = [
        f"<h2>Source</h2><div class=grid>{_figure('source.png', 'skimage astronaut (512 px)')}</div>"
    ]

    figures = []
    for style in DEFAULT_STYLES:
        for ratio in HEADSHOT_ASPECT_RATIOS:
            started = time.perf_counter()
            [image] = engine.render(
                RenderRequest(source=source, style=style, aspect_ratio=ratio, seed=7)
            )
            elapsed = (time.perf_counter() - started) * 1000
            name = f"headshot_{style.slug}_{ratio.replace(':', 'x')}.{image.extension}"
            (outdir / name).write_bytes(image.data)
            framing = image.metadata["changed"]["framing"]
            figures.append(
                _figure(
                    name,
                    f"{style.name} {ratio} — {style.backdrop}, {style.grade}, face {framing['face_share']:.2f}"
                    f" ({elapsed:.0f} ms)",
                )
            )
    sections.append(
        f"<h2>Headshot styles (studio engine)</h2><div class=grid>{''.join(figures)}</div>"
    )

    figures = []
    batch = engine.render(RenderRequest(source=source, style=DEFAULT_STYLES[0], seed=11, count=4))
    for image in batch:
        name = f"variation_{image.metadata['variation']}.{image.extension}"
        (outdir / name).write_bytes(image.data)
        figures.append(_figure(name, f"Corporate, variation {image.metadata['variation']}"))
    sections.append(f"<h2>A batch of four variations</h2><div class=grid>{''.join(figures)}</div>")

    figures = []
    for slug, art in ART_STYLES.items():
        render = render_character(
            CharacterRequest(reference=source, art_style=slug, template="headshot", seed=3)
        )
        name = f"character_{slug}.png"
        (outdir / name).write_bytes(render.image.data)
        figures.append(_figure(name, f"{art.name} — {art.local_note}"))
    sections.append(
        f"<h2>Character art styles (local filters)</h2><div class=grid>{''.join(figures)}</div>"
    )

    figures = []
    for template, art, ratio in (
        ("expression-sheet", "anime", "1:1"),
        ("pose-sheet", "realistic", "16:9"),
        ("action-poses", "pixar", "4:3"),
        ("over-the-shoulder", "cyberpunk", "16:9"),
        ("hero", "realistic", "9:16"),
        ("villain-reveal", "cyberpunk", "3:4"),
    ):
        render = render_character(
            CharacterRequest(
                reference=source, art_style=art, template=template, aspect_ratio=ratio, seed=3
            )
        )
        name = f"template_{template}.png"
        (outdir / name).write_bytes(render.image.data)
        figures.append(_figure(name, f"{template} in {art}, {ratio}"))
    sections.append(
        "<h2>Character templates</h2><p>The local engine reuses the reference face, expression and "
        "pose in every panel; the recorded panel prompts are what a generative engine renders.</p>"
        f"<div class=grid>{''.join(figures)}</div>"
    )

    page = (
        "<!doctype html><meta charset=utf-8><title>generation samples</title>"
        "<style>body{font:14px system-ui;margin:24px;background:#f4f4f2}"
        ".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));gap:14px}"
        "figure{margin:0;background:#fff;padding:6px;border-radius:6px}"
        "img{width:100%;height:auto;display:block}figcaption{font-size:12px;color:#444;margin-top:4px}"
        "</style><h1>Studio engine samples</h1>"
        f"<p>{html.escape(engine.description)}</p>" + "".join(sections)
    )
    index = outdir / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m generation.samples OUTDIR", file=sys.stderr)
        return 2
    index = write_samples(Path(args[0]))
    print(f"wrote {index}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
