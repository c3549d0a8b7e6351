"""The one price rule for a character generation.

A version is one image: a single frame, or a 3x3 sheet of nine panels. A sheet is
nine renders, so it costs most (the seed's modal shows 12 credits for one); a scene
shot adds mood lighting to a portrait; a background reference adds a compositing
pass. Credits are held at submit and captured only when the version is delivered.
"""

from __future__ import annotations

from characters.catalog import PORTRAIT, SCENE, SHEET, TEMPLATE_GROUPS

GROUP_COST: dict[str, int] = {PORTRAIT: 4, SCENE: 5, SHEET: 12}
BACKGROUND_SURCHARGE = 1


def character_price(*, template: str, with_background: bool = False) -> int:
    """Credits for one version. Every caller (config, estimate, submit, pages) uses this."""
    try:
        group = TEMPLATE_GROUPS[template]
    except KeyError:
        raise ValueError(f"unknown template {template!r}") from None
    return GROUP_COST[group] + (BACKGROUND_SURCHARGE if with_background else 0)
