"""What a submit does with the photo: checks it once, keeps the member's pixels, no EXIF."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from headshots import engine, services
from tests.conftest import client_for
from tests.factories import team_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(db):
    return team_member(credits=100)


def _phone_photo(face_jpeg: bytes) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8825)[2] = (51.0, 30.0, 0.0)
    out = io.BytesIO()
    Image.open(io.BytesIO(face_jpeg)).save(out, "JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


def _photo(data: bytes) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = "me.jpg"
    return handle


def test_a_batch_of_styles_checks_and_converts_the_photo_once(
    member, media, face_jpeg, monkeypatch, django_capture_on_commit_callbacks
):
    calls = {"inspect": 0, "normalise": 0}
    for name in calls:
        real = getattr(engine, name)

        def counted(data, _real=real, _name=name, **options):
            calls[_name] += 1
            return _real(data, **options)

        monkeypatch.setattr(engine, name, counted)
    with django_capture_on_commit_callbacks(execute=False):
        response = client_for(member).post(
            "/api/v1/headshots/batch",
            {
                "team": member.team.id,
                "styles": ["corporate", "medical", "creative-professional"],
                "photo": _photo(face_jpeg),
            },
            format="multipart",
        )
    assert response.status_code == 202, response.content
    assert len(response.json()) == 3
    assert calls == {"inspect": 1, "normalise": 1}


def test_the_kept_photo_is_the_members_pixels_without_exif(
    member, media, face_jpeg, django_capture_on_commit_callbacks
):
    upload = _phone_photo(face_jpeg)
    with django_capture_on_commit_callbacks(execute=False):
        generation, _ = services.headshot_submit(
            user=member,
            team_id=member.team.id,
            style_slug="corporate",
            aspect_ratio="1:1",
            quality="standard",
            batch_size=1,
            photo=_photo(upload),
        )
    with generation.source.open("rb") as handle:
        kept = handle.read()
    assert b"PhoneMaker" not in kept and not Image.open(io.BytesIO(kept)).getexif()
    decoded = np.asarray(Image.open(io.BytesIO(kept)))
    assert np.array_equal(decoded, np.asarray(Image.open(io.BytesIO(upload))))
