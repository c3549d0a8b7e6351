"""Studio engine: milliseconds per 1024 px headshot vs the floor on the same image, for
skimage's astronaut (512 px) and a phone-sized upload (loadkit.face_photo, 2549x3185).

The floor is what any headshot service pays at least: decode the upload (a JPEG at the
coarsest libjpeg scale that still has 1024 px), Lanczos-resize it to 1024 px, encode a
JPEG. Ours is the whole studio pipeline from the same bytes:
decode, face detection + landmarks, segmentation, framing, matting, retouch, grade,
backdrop, composite, sharpen, Lanczos to 1024, JPEG. Each run starts from the bytes
(the per-source analysis cache is cleared), pinned to one core, after a warm-up; the
median of N runs of each, interleaved, is printed.
Run: .venv/bin/python bench/engine.py [N]
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _common import print_header, print_row  # noqa: E402
from PIL import Image  # noqa: E402
from support.loadkit import face_photo  # noqa: E402

from generation import studio  # noqa: E402
from generation.imaging import encode_image, load_for_analysis  # noqa: E402
from generation.interface import RenderRequest  # noqa: E402
from generation.styles import style_by_slug  # noqa: E402


def _one_core() -> None:
    """Pin to one CPU so the figure is per core (numpy/OpenCV/mediapipe threads too)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def _median_ms(runs: list, repeats: int) -> list[float]:
    """Median milliseconds of each run. The runs alternate, so a busy neighbour on the
    machine slows ours and the floor alike instead of skewing the ratio."""
    for run in runs:
        run()  # warm-up: model loading and first-call allocations are not per-image cost
    samples: list[list[float]] = [[] for _ in runs]
    for _ in range(repeats):
        for index, run in enumerate(runs):
            started = time.perf_counter()
            run()
            samples[index].append((time.perf_counter() - started) * 1000)
    return [statistics.median(values) for values in samples]


def _pair(source: bytes) -> list:
    """Our render and the floor for one source."""
    engine = studio.StudioEngine()
    request = RenderRequest(source=source, style=style_by_slug("corporate"), quality="standard")

    def ours() -> None:
        studio._prepared_cache.clear()
        engine.render(request)

    def floor() -> None:
        image, _size = load_for_analysis(source, 1024)
        encode_image(image.resize((1024, 1024), Image.Resampling.LANCZOS), "jpeg")

    return [ours, floor]


def main() -> int:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    _one_core()
    from skimage import data

    astronaut = encode_image(data.astronaut(), "jpeg")
    ours_ms, floor_ms, phone_ms, phone_floor_ms = _median_ms(
        [*_pair(astronaut), *_pair(face_photo())], repeats
    )
    print_header()
    print_row(
        "studio headshot 1024 px, 1 core (astronaut)", ours_ms, floor_ms, "ms", "<250 ms, ratio < 4"
    )
    print_row(
        "studio headshot 1024 px, 1 core (phone photo)",
        phone_ms,
        phone_floor_ms,
        "ms",
        "<250 ms, ratio < 4",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
