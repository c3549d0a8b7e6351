"""The cost table per template, and the catalog the modal offers."""

import pytest

import generation
from characters import catalog
from characters.models import ArtStyle, Size, TemplateType
from characters.pricing import character_price

PORTRAITS = ("headshot", "medium-shot", "full-body", "over-the-shoulder")
SHEETS = ("expression-sheet", "action-poses", "pose-sheet")
SCENES = ("hero", "villain-reveal", "emotional-breakdown", "victory", "defeated")


@pytest.mark.parametrize(
    ("template", "plain", "with_background"),
    [
        *((t, 4, 5) for t in PORTRAITS),
        *((t, 12, 13) for t in SHEETS),
        *((t, 5, 6) for t in SCENES),
    ],
)
def test_the_cost_table(template, plain, with_background):
    assert character_price(template=template) == plain
    assert character_price(template=template, with_background=True) == with_background


def test_every_sheet_costs_more_than_every_single_image():
    singles = [character_price(template=t) for t in PORTRAITS + SCENES]
    sheets = [character_price(template=t) for t in SHEETS]
    assert min(sheets) > max(singles)
    assert min(character_price(template=t) for t in SCENES) > max(
        character_price(template=t) for t in PORTRAITS
    )


def test_an_unknown_template_has_no_price():
    with pytest.raises(ValueError):
        character_price(template="selfie")


def test_the_catalog_offers_exactly_what_the_engine_renders():
    assert set(catalog.TEMPLATE_GROUPS) == set(generation.TEMPLATES)
    assert set(catalog.ART_STYLE_ORDER) == set(generation.ART_STYLES)
    assert set(TemplateType.values) == set(generation.TEMPLATES)
    assert set(ArtStyle.values) == set(generation.ART_STYLES)
    assert Size.values == ["1:1", "4:3", "3:4", "16:9", "9:16"]
    for size in Size.values:
        assert size in generation.ASPECT_RATIOS


def test_the_seed_templates_are_all_there():
    sheet = catalog.template_info("expression-sheet")
    assert sheet.panels == (
        "Happy", "Sad", "Angry", "Surprised", "Fear", "Disgust", "Neutral", "Smirk", "Laugh",
    )  # fmt: skip
    assert catalog.template_info("action-poses").panels == (
        "Walking", "Running", "Fighting Stance", "Sitting", "Jumping", "Falling", "Kneeling",
        "Pointing", "Arms Crossed",
    )  # fmt: skip
    pose = catalog.template_info("pose-sheet")
    assert pose.seed_locked and pose.panels == (
        "Front", "Back", "Left", "Right", "45°", "Walking", "Seated", "Hand on Hip", "Close-up",
    )  # fmt: skip
    assert [catalog.template_info(t).group for t in PORTRAITS] == ["portrait"] * 4
    assert [catalog.template_info(t).group for t in SCENES] == ["scene"] * 5


@pytest.mark.django_db
def test_the_demo_project_is_seeded_once():
    from io import StringIO

    from django.core.management import call_command

    from characters.models import Character, Project

    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    project = Project.objects.get(name="The Lighthouse Keeper")
    assert project.team.slug == "acme-studio"
    assert Character.objects.filter(project=project).count() == 2
