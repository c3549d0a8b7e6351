"""What the generation modal offers: templates (grouped as the seed lists them), art
styles and sizes. Names and panel labels come from `generation`, so the modal, the API
config and the engine can never disagree; only the grouping and the order are ours."""

from __future__ import annotations

from dataclasses import dataclass

import generation

PORTRAIT = "portrait"
SHEET = "sheet"
SCENE = "scene"

GROUPS: dict[str, str] = {
    PORTRAIT: "Single portrait",
    SHEET: "Sheets (3x3)",
    SCENE: "Scene shots",
}

# Seed 004's film-production templates, in its order, and seed 003's pose sheet.
TEMPLATE_GROUPS: dict[str, str] = {
    "headshot": PORTRAIT,
    "medium-shot": PORTRAIT,
    "full-body": PORTRAIT,
    "over-the-shoulder": PORTRAIT,
    "expression-sheet": SHEET,
    "action-poses": SHEET,
    "pose-sheet": SHEET,
    "hero": SCENE,
    "villain-reveal": SCENE,
    "emotional-breakdown": SCENE,
    "victory": SCENE,
    "defeated": SCENE,
}

ART_STYLE_ORDER = ("realistic", "anime", "ghibli", "pixar", "disney", "cyberpunk", "sketch")

# FaceNet cannot see a person through these filters: on real photos the same person
# scored 0.18-0.68 and different people 0.29-0.46 (obama, biden, skimage's astronaut,
# headshot and expression sheet). They get the stylised identity floor (see
# ConsistencyPolicy); the others the site's identity threshold (staff SiteSettings; same
# person >= 0.79 there).
STYLISED_ART_STYLES = frozenset({"anime", "ghibli", "sketch"})

SIZES: dict[str, str] = {
    "1:1": "1:1 square",
    "4:3": "4:3 landscape",
    "3:4": "3:4 portrait",
    "16:9": "16:9 widescreen",
    "9:16": "9:16 vertical",
}


@dataclass(frozen=True)
class TemplateInfo:
    slug: str
    name: str
    group: str
    panels: tuple[str, ...]
    seed_locked: bool

    @property
    def is_sheet(self) -> bool:
        return self.group == SHEET


def template_info(slug: str) -> TemplateInfo:
    template = generation.TEMPLATES[slug]
    return TemplateInfo(
        slug=slug,
        name=template.name,
        group=TEMPLATE_GROUPS[slug],
        panels=tuple(panel.label for panel in template.panels),
        seed_locked=template.lock_seed,
    )


def templates() -> list[TemplateInfo]:
    return [template_info(slug) for slug in TEMPLATE_GROUPS]


def art_style_name(slug: str) -> str:
    return generation.ART_STYLES[slug].name


def art_styles() -> list[tuple[str, str]]:
    return [(slug, art_style_name(slug)) for slug in ART_STYLE_ORDER]
