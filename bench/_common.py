"""Print benchmark rows: figure, ours, floor, ratio, target. Benchmarks never assert."""

from __future__ import annotations

import os

COLUMNS = ("figure", "ours", "floor", "ratio", "target")
_WIDTHS = (44, 14, 14, 8, 24)


def _line(cells: tuple[str, ...]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, _WIDTHS, strict=True)).rstrip()


def print_header() -> None:
    if os.environ.get("BENCH_NO_HEADER"):
        return  # bench/run_all.py prints one header for the whole table
    print(_line(COLUMNS))
    print(_line(tuple("-" * width for width in _WIDTHS)))


def print_row(
    figure: str,
    ours: float,
    floor: float,
    unit: str,
    target: str,
    *,
    higher_is_better: bool = False,
) -> None:
    """One row. The ratio is how many times worse than the floor we are: ours/floor for
    times (lower is better), floor/ours for rates (higher_is_better)."""
    if higher_is_better:
        ratio = floor / ours if ours else float("inf")
    else:
        ratio = ours / floor if floor else float("inf")
    print(
        _line((figure, f"{ours:,.1f} {unit}", f"{floor:,.1f} {unit}", f"{ratio:.2f}", target)),
        flush=True,
    )
