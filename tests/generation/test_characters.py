"""Character art styles and template compositing."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from generation import (
    ART_STYLES,
    TEMPLATES,
    CharacterRequest,
    reference_consistency,
    render_character,
)
from generation.art_styles import apply_art_style
from generation.interface import Availability, RenderedImage, RenderRequest
from generation.similarity import ssim
from generation.templates import EXPRESSIONS, POSE_VARIANTS


@pytest.fixture(scope="module")
def portrait() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[:384, 64:448])


@pytest.mark.parametrize("slug", sorted(ART_STYLES))
def test_each_art_style_changes_the_image_and_keeps_its_size(
    portrait: np.ndarray, slug: str
) -> None:
    out = apply_art_style(portrait, slug, seed=1)
    assert out.shape == portrait.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - portrait.astype(int)).mean() > 8


def test_art_styles_differ_from_each_other(portrait: np.ndarray) -> None:
    outs = {
        slug: apply_art_style(portrait, slug).astype(int)
        for slug in ("anime", "sketch", "cyberpunk")
    }
    assert np.abs(outs["anime"] - outs["sketch"]).mean() > 20
    assert np.abs(outs["anime"] - outs["cyberpunk"]).mean() > 10


def test_sketch_is_monochrome(portrait: np.ndarray) -> None:
    out = apply_art_style(portrait, "sketch")
    assert np.array_equal(out[..., 0], out[..., 1]) and np.array_equal(out[..., 1], out[..., 2])


@pytest.fixture(scope="module")
def expression_sheet(astronaut_png: bytes):
    request = CharacterRequest(
        reference=astronaut_png,
        template="expression-sheet",
        art_style="ghibli",
        description="red scarf",
    )
    return render_character(request)


def test_expression_sheet_is_a_labelled_3x3_grid(expression_sheet) -> None:
    render = expression_sheet
    meta = render.image.metadata
    assert meta["grid"] == [3, 3]
    assert meta["labels"] == [label for label, _, _ in EXPRESSIONS]
    assert len(render.panels) == 9
    boxes = [panel["box"] for panel in render.panels]
    assert (
        len({box[0] for box in boxes}) == 3 and len({box[1] for box in boxes}) == 3
    )  # 3 columns, 3 rows
    assert all(w > 250 and h > 200 for _, _, w, h in boxes)


def test_every_panel_prompt_names_its_expression_and_the_art_style(expression_sheet) -> None:
    render = expression_sheet
    for panel, (_label, prompt, _) in zip(render.panels, EXPRESSIONS, strict=True):
        assert prompt in panel["prompt"]
        assert "watercolour" in panel["prompt"] and "red scarf" in panel["prompt"]


def test_local_engine_says_it_reuses_the_reference_face(astronaut_png: bytes) -> None:
    render = render_character(CharacterRequest(reference=astronaut_png, template="pose-sheet"))
    meta = render.image.metadata
    assert meta["engine"] == "studio" and meta["generative"] is False
    assert meta["can_change_expression_or_pose"] is False
    assert "reuses the reference" in meta["note"]


def test_pose_sheet_has_the_nine_poses_with_one_locked_seed(astronaut_png: bytes) -> None:
    render = render_character(
        CharacterRequest(reference=astronaut_png, template="pose-sheet", seed=1234)
    )
    assert [panel["label"] for panel in render.panels] == [label for label, _, _ in POSE_VARIANTS]
    assert {panel["seed"] for panel in render.panels} == {1234}
    assert render.image.metadata["seed_locked"] is True


@pytest.mark.parametrize(("ratio", "size"), [("1:1", (1024, 1024)), ("4:3", (1024, 768)), ("3:4", (768, 1024)),
                                             ("16:9", (1024, 576)), ("9:16", (576, 1024))])  # fmt: skip
def test_character_sizes(astronaut_png: bytes, ratio: str, size: tuple[int, int]) -> None:
    render = render_character(
        CharacterRequest(reference=astronaut_png, template="headshot", aspect_ratio=ratio)
    )
    assert Image.open(io.BytesIO(render.image.data)).size == size


@pytest.mark.parametrize("template", ["medium-shot", "full-body", "over-the-shoulder", "hero", "villain-reveal",
                                      "emotional-breakdown", "victory", "defeated", "action-poses"])  # fmt: skip
def test_every_template_renders(astronaut_png: bytes, template: str) -> None:
    render = render_character(
        CharacterRequest(reference=astronaut_png, template=template, art_style="realistic")
    )
    assert render.image.width == 1024
    assert len(render.panels) == len(TEMPLATES[template].panels)


class PromptRecordingEngine:
    """A stand-in generative engine: returns the reference and records each prompt."""

    name = "recording"
    description = "test"
    model = "test-model"

    def __init__(self) -> None:
        self.requests: list[RenderRequest] = []

    def availability(self) -> Availability:
        return Availability(True)

    def render(self, request: RenderRequest) -> list[RenderedImage]:
        self.requests.append(request)
        return [
            RenderedImage(
                request.source,
                "png",
                "image/png",
                512,
                512,
                request.seed,
                self.name,
                self.model,
                {},
            )
        ]


def test_a_remote_engine_renders_each_panel_from_its_own_prompt(astronaut_png: bytes) -> None:
    engine = PromptRecordingEngine()
    render = render_character(
        CharacterRequest(reference=astronaut_png, template="expression-sheet", seed=77), engine
    )
    assert [r.style.prompt for r in engine.requests] == [panel["prompt"] for panel in render.panels]
    assert {r.seed for r in engine.requests} == {77}
    assert render.image.metadata["generative"] is True and render.image.engine == "recording"


def test_reference_consistency_is_high_for_the_same_face(astronaut_png: bytes) -> None:
    render = render_character(
        CharacterRequest(reference=astronaut_png, template="headshot", art_style="realistic")
    )
    scores = reference_consistency(astronaut_png, render.image.data)
    assert scores["identity"] > 0.7
    assert 0.3 < scores["ssim"] <= 1.0


def test_reference_consistency_is_none_without_a_face(astronaut_png: bytes, cat_png: bytes) -> None:
    assert reference_consistency(astronaut_png, cat_png) == {"identity": None, "ssim": None}


def test_ssim_is_one_for_identical_images_and_lower_for_noise(portrait: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    noisy = np.clip(portrait + rng.normal(0, 25, portrait.shape), 0, 255).astype(np.uint8)
    assert ssim(portrait, portrait) == pytest.approx(1.0)
    assert ssim(portrait, noisy) < 0.8
