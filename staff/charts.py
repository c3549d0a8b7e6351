"""Bar charts as inline SVG, drawn on the server: the analytics page needs no script or CDN.

Every label and title is escaped; numbers are formatted here, never taken as markup.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

BAR = "#417690"  # Django admin's header blue
MUTED = "#666"
GRID = "#ddd"


def _number(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.1f}"


def _svg(width: int, height: int, title: str, body: list[str]) -> SafeString:
    label = escape(title)
    return mark_safe(  # noqa: S308 - every interpolated text went through escape()
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'aria-label="{label}" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" font-family="sans-serif" font-size="11">'
        f"<title>{label}</title>{''.join(body)}</svg>"
    )


def hbar_chart(
    *, title: str, labels: Sequence[str], values: Sequence[float], unit: str = "", width: int = 640
) -> SafeString:
    """Horizontal bars, one row per label (styles, credit flows)."""
    row, label_width, value_width, top = 22, 170, 80, 8
    height = top * 2 + row * max(len(values), 1)
    plot = width - label_width - value_width
    peak = max([*values, 0]) or 1
    body = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + i * row
        bar = round(plot * value / peak, 1) if value > 0 else 0
        body.append(
            f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{bar}" height="{row - 6}" fill="{BAR}">'
            f"<title>{escape(label)}: {_number(value)}{escape(unit)}</title></rect>"
            f'<text x="{label_width + bar + 4}" y="{y + 15}" fill="{MUTED}">'
            f"{_number(value)}{escape(unit)}</text>"
        )
    if not values:
        body.append(f'<text x="{label_width}" y="{top + 15}" fill="{MUTED}">No data</text>')
    return _svg(width, height, title, body)


def vbar_chart(
    *,
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    width: int = 640,
    height: int = 180,
    label_every: int = 1,
) -> SafeString:
    """Vertical bars over an axis (hours of the day, days of a range)."""
    left, bottom, top = 40, 20, 10
    plot_w, plot_h = width - left - 6, height - bottom - top
    peak = max([*values, 0]) or 1
    slot = plot_w / max(len(values), 1)
    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 6}" y2="{top + plot_h}" '
        f'stroke="{GRID}"/>',
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" fill="{MUTED}">'
        f"{_number(peak)}</text>",
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" fill="{MUTED}">0</text>',
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = left + i * slot
        bar_h = round(plot_h * value / peak, 1) if value > 0 else 0
        body.append(
            f'<rect x="{x + slot * 0.1:.1f}" y="{top + plot_h - bar_h}" width="{slot * 0.8:.1f}" '
            f'height="{bar_h}" fill="{BAR}"><title>{escape(label)}: {_number(value)}</title></rect>'
        )
        if i % label_every == 0:
            body.append(
                f'<text x="{x + slot / 2:.1f}" y="{height - 6}" text-anchor="middle" '
                f'fill="{MUTED}">{escape(label)}</text>'
            )
    return _svg(width, height, title, body)
