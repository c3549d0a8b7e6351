"""Every bad upload gets a clear 4xx, charges nothing and stores nothing; odd-but-fine ones work."""

import io

import numpy as np
import pytest
from PIL import Image

from credits import selectors as credits_selectors
from headshots import services
from headshots.models import HeadshotGeneration
from tests.conftest import client_for
from tests.factories import team_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(db):
    return team_member(credits=50)


@pytest.fixture(scope="module")
def astronaut() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.astronaut())


def _file(data: bytes, name: str) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def _encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


def _submit(member, data: bytes, name: str = "me.jpg"):
    return client_for(member).post(
        "/api/v1/headshots",
        {"style": "corporate", "team": member.team.id, "photo": _file(data, name)},
        format="multipart",
    )


def _nothing_charged_or_stored(member, media):
    assert credits_selectors.balance_member(team_id=member.team.id, user_id=member.id) == 50
    assert not HeadshotGeneration.objects.exists()
    assert not [p for p in media.rglob("*") if p.is_file()]


def _huge_png() -> bytes:
    # 30000 x 30000 pixels of one colour compress to a few hundred kilobytes: a bomb.
    return _encode(Image.new("1", (30000, 30000)), "PNG")


REFUSED = {
    "not an image": (b"just some text, not a photo" * 10, "me.jpg"),
    "a pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n", "me.jpg"),
    "svg disguised as jpeg": (
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "me.jpg",
    ),
    "html disguised as png": (
        b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        "me.png",
    ),
}


@pytest.mark.parametrize("label", list(REFUSED))
def test_non_images_are_refused_with_422(member, media, label):
    data, name = REFUSED[label]
    response = _submit(member, data, name)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "photo_rejected"
    _nothing_charged_or_stored(member, media)


def test_a_truncated_jpeg_is_refused(member, media, astronaut):
    data = _encode(astronaut, "JPEG", quality=90)
    response = _submit(member, data[: len(data) // 2])
    assert response.status_code == 422
    _nothing_charged_or_stored(member, media)


def test_an_image_bomb_is_refused_without_decoding_it(member, media):
    data = _huge_png()
    assert len(data) < 5 * 1024 * 1024
    response = _submit(member, data, "bomb.png")
    assert response.status_code == 422
    assert (
        "large" in response.json()["detail"].lower()
        or "pixels" in response.json()["detail"].lower()
    )
    _nothing_charged_or_stored(member, media)


def test_a_file_over_the_size_limit_is_413(member, media, settings, astronaut):
    settings.HEADSHOT_MAX_UPLOAD_BYTES = 20_000
    response = _submit(member, _encode(astronaut, "PNG"), "big.png")
    assert response.status_code == 413
    assert response.json()["code"] == "photo_too_large"
    _nothing_charged_or_stored(member, media)


def test_an_animated_gif_is_refused(member, media, astronaut):
    frames = [astronaut.convert("P"), astronaut.rotate(5).convert("P")]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    response = _submit(member, out.getvalue(), "moving.gif")
    assert response.status_code == 422
    assert "animat" in response.json()["detail"].lower()
    _nothing_charged_or_stored(member, media)


def test_the_content_decides_not_the_extension(
    member, media, astronaut, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        response = _submit(member, _encode(astronaut, "PNG"), "photo.jpeg")
    assert response.status_code == 202


def test_a_cmyk_jpeg_is_accepted_and_stored_as_rgb(
    member, media, astronaut, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        response = _submit(member, _encode(astronaut.convert("CMYK"), "JPEG", quality=92))
    assert response.status_code == 202, response.content
    stored = HeadshotGeneration.objects.get()
    with stored.source.open("rb") as handle:
        assert Image.open(handle).mode == "RGB"


def test_a_16_bit_png_is_accepted_and_converted(
    member, media, astronaut, django_capture_on_commit_callbacks
):
    sixteen = Image.fromarray(np.asarray(astronaut.convert("L")).astype("uint16") * 257)
    assert sixteen.mode.startswith("I")
    with django_capture_on_commit_callbacks(execute=False):
        response = _submit(member, _encode(sixteen, "PNG"), "deep.png")
    assert response.status_code == 202, response.content
    with HeadshotGeneration.objects.get().source.open("rb") as handle:
        assert Image.open(handle).mode == "RGB"


def _with_exif(image: Image.Image, **tags) -> bytes:
    exif = Image.Exif()
    for key, value in tags.items():
        exif[int(key[1:])] = value
    return _encode(image, "JPEG", quality=92, exif=exif.tobytes())


def test_exif_rotation_is_honoured(member, media, astronaut, django_capture_on_commit_callbacks):
    # Stored sideways with "rotate 90 CW to view" (orientation 6): we must store it upright.
    sideways = astronaut.crop((0, 0, 512, 400)).rotate(90, expand=True)
    assert sideways.size == (400, 512)
    with django_capture_on_commit_callbacks(execute=False):
        response = _submit(member, _with_exif(sideways, t274=6))
    assert response.status_code == 202, response.content
    with HeadshotGeneration.objects.get().source.open("rb") as handle:
        assert Image.open(handle).size == (512, 400)


def test_exif_gps_is_stripped_from_every_stored_file(member, media, astronaut):
    gps = Image.Exif()
    gps[0x8825] = {1: "N", 2: (52.0, 22.0, 0.0), 3: "E", 4: (4.0, 53.0, 0.0)}  # GPSInfo
    gps[0x010F] = "PhoneMaker"
    data = _encode(astronaut, "JPEG", quality=92, exif=gps.tobytes())
    assert Image.open(io.BytesIO(data)).getexif().get(0x8825)
    generation, _ = services.headshot_submit(
        user=member,
        team_id=member.team.id,
        style_slug="corporate",
        aspect_ratio="1:1",
        quality="standard",
        batch_size=1,
        photo=_file(data, "me.jpg"),
    )
    services.headshot_run(generation_id=generation.pk)
    stored = [p for p in media.rglob("*") if p.is_file()]
    assert len(stored) >= 4  # the upload, the image, its WebP and its thumbnail
    for path in stored:
        with Image.open(path) as picture:
            exif = picture.getexif()
            assert not exif.get(0x8825) and not exif.get(0x010F), path
            assert b"GPS" not in path.read_bytes()[:4096], path


def test_huge_json_is_refused_cleanly(member):
    body = '{"style": "corporate", "pad": "' + "x" * 3_000_000 + '"}'
    response = client_for(member).generic(
        "POST", "/api/v1/headshots/estimate", body, content_type="application/json"
    )
    assert response.status_code in (400, 413)
    assert response["Content-Type"].startswith("application/json")


def test_a_long_idempotency_key_on_a_batch_is_stored_and_replayed(
    member, media, astronaut, django_capture_on_commit_callbacks
):
    """100-character key + ':' + a 21-character style slug used to overflow the column."""
    data = _encode(astronaut, "JPEG", quality=90)
    key = "k" * 100

    def batch():
        return client_for(member).post(
            "/api/v1/headshots/batch",
            {
                "team": member.team.id,
                "styles": ["creative-professional"],
                "photo": _file(data, "me.jpg"),
            },
            format="multipart",
            HTTP_IDEMPOTENCY_KEY=key,
        )

    with django_capture_on_commit_callbacks(execute=False):
        first, second = batch(), batch()
    assert (first.status_code, second.status_code) == (202, 202), first.content
    assert first.json()[0]["id"] == second.json()[0]["id"]
    assert HeadshotGeneration.objects.count() == 1
