"""The consistency gate: which scores pass, per art style and engine kind; and the real
studio renders of real faces pass it while another person's face does not."""

import pytest

import generation
from characters import engine
from characters.engine import Thresholds, judge

DEFAULTS = Thresholds(identity=0.58, stylised_identity=0.10, ssim=0.20, max_rerenders=3)


def verdict(identity, ssim, *, art_style="realistic", generative=False, gate=True):
    return judge(
        {"identity": identity, "ssim": ssim},
        art_style=art_style,
        generative=generative,
        gate=gate,
        thresholds=DEFAULTS,
    )


def test_photographic_styles_need_the_identity_threshold_and_ssim_on_the_studio_engine():
    assert verdict(0.9, 0.6) is None
    assert "identity 0.50 below 0.58" in verdict(0.5, 0.6)
    assert "SSIM 0.15 below 0.20" in verdict(0.9, 0.15)


def test_a_generative_engine_is_not_held_to_pixel_ssim():
    assert verdict(0.9, 0.05, generative=True) is None
    assert verdict(0.4, 0.9, generative=True) is not None


@pytest.mark.parametrize("style", ["anime", "ghibli", "sketch"])
def test_stylised_styles_only_need_the_face_to_survive(style):
    assert verdict(0.2, 0.1, art_style=style) is None
    assert verdict(0.05, 0.9, art_style=style) is not None


def test_a_lost_face_fails_and_a_faceless_reference_is_not_gated():
    assert "face was lost" in verdict(None, None)
    assert verdict(None, None, gate=False) is None


@pytest.fixture(scope="module")
def faces():
    from tests.characters.conftest import face_photo

    return {name: face_photo(f"{name}.jpg") for name in ("obama", "biden")}


@pytest.mark.parametrize(
    ("template", "art_style"),
    [("expression-sheet", "realistic"), ("headshot", "anime"), ("pose-sheet", "pixar")],
)
def test_studio_renders_of_a_real_face_pass_the_default_gate(faces, template, art_style):
    reference = engine.read_reference(faces["obama"], what="reference", need_face=True)
    outcome = engine.render(
        reference=reference,
        background=None,
        template=template,
        art_style=art_style,
        aspect_ratio="1:1",
        seed=3,
        description="",
        character_name="Mara",
        thresholds=DEFAULTS,
    )
    assert outcome.attempts == 1 and outcome.rejected == []
    assert outcome.identity is not None and outcome.ssim is not None


def test_another_persons_face_fails_the_default_gate(faces):
    """The obama render compared with biden as the 'reference' is refused."""
    rendered = generation.render_character(
        generation.CharacterRequest(reference=faces["obama"], template="headshot", seed=3)
    )
    scores = generation.reference_consistency(faces["biden"], rendered.image.data)
    assert verdict(scores["identity"], scores["ssim"]) is not None
