"""Signed file URLs on local disk: the format the API hands out now, the first format
still accepted until it expires, expiry, tampering and key rotation."""

import base64
import time

import pytest
from django.core import signing
from django.urls import reverse, set_script_prefix

from headshots import files
from tests.conftest import client_for
from tests.factories import finished_generation, team_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(db):
    return team_member()


@pytest.fixture
def image(member, media):
    return finished_generation(member).images.get()


def _token(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def _made_at(monkeypatch, seconds_ago: int, make):
    """What `make()` returns when run `seconds_ago` seconds in the past."""
    real = time.time
    with monkeypatch.context() as patched:
        patched.setattr(time, "time", lambda: real() - seconds_ago)
        return make()


def _v1_url(name: str) -> str:
    """A URL in the first format, exactly as the code before this one made them."""
    token = signing.dumps({"name": name}, salt=files.FILE_SALT, compress=True)
    return reverse("headshots:file", args=[token])


def test_the_api_hands_out_the_new_format_and_it_serves_the_file(member, image, client):
    data = client_for(member).get(f"/api/v1/headshots/{image.generation_id}").json()
    url = data["images"][0]["url"]
    token = _token(url)
    assert url == reverse("headshots:file", args=[token])
    # the name in URL-safe base64, a timestamp, the HMAC: no JSON, no zlib
    encoded, _, _ = token.split(":")
    assert base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode() == (
        image.image.name
    )
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == image.image.read()
    assert files.file_name_from_token(_token(data["images"][0]["thumbnail_url"])) == (
        image.thumbnail.name
    )


def test_the_new_format_is_djangos_timestamp_signer_byte_for_byte(image):
    """The per-secret HMAC is only a cache: Django's own signer makes and checks the same."""
    token = files.file_token(image.image.name)
    plain = signing.TimestampSigner(salt=files.FILE_SALT_V2)
    encoded = token.split(":")[0]
    assert plain.unsign(token, max_age=files.FILE_URL_SECONDS) == encoded
    assert files.file_name_from_token(plain.sign(encoded)) == image.image.name


def test_urls_of_both_formats_expire_after_an_hour(monkeypatch, image, client):
    hour = files.FILE_URL_SECONDS
    for make in (lambda: files.file_url(image.image), lambda: _v1_url(image.image.name)):
        fresh = _made_at(monkeypatch, hour - 60, make)
        stale = _made_at(monkeypatch, hour + 60, make)
        assert client.get(fresh).status_code == 200, fresh
        assert client.get(stale).status_code == 404, stale
        assert files.file_name_from_token(_token(stale)) is None


def test_urls_clients_already_hold_keep_working_until_they_expire(image, client):
    url = _v1_url(image.image.name)
    assert files.file_name_from_token(_token(url)) == image.image.name
    assert client.get(url).status_code == 200


def test_a_tampered_or_foreign_token_is_refused(member, media, image, client):
    other = finished_generation(member).images.get()
    token = files.file_token(image.image.name)
    encoded, stamp, signature = token.split(":")
    other_encoded = files.file_token(other.image.name).split(":")[0]
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    forged = [
        f"{encoded}:{stamp}:{flipped}",  # the signature changed
        f"{other_encoded}:{stamp}:{signature}",  # another file under this signature
        f"{encoded}:{signing.b62_encode(int(time.time()) + 3600)}:{signature}",  # later stamp
        encoded,  # unsigned
        # signed with the same secret for another purpose (share links, the first format)
        signing.TimestampSigner(salt=files.SHARE_SALT).sign(encoded),
        signing.TimestampSigner(salt=files.FILE_SALT).sign(encoded),
        "x" * 300,
    ]
    for bad in forged:
        assert files.file_name_from_token(bad) is None, bad
        assert client.get(reverse("headshots:file", args=[bad])).status_code == 404, bad
    assert client.get(reverse("headshots:file", args=[token])).status_code == 200


def test_a_rotated_secret_keeps_its_urls_until_it_is_dropped(settings, image):
    settings.SECRET_KEY = "old-" + "k" * 60
    token = files.file_token(image.image.name)
    v1 = _token(_v1_url(image.image.name))
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "new-" + "k" * 60, ["old-" + "k" * 60]
    assert files.file_name_from_token(token) == image.image.name
    assert files.file_name_from_token(v1) == image.image.name
    assert files.file_token(image.image.name).split(":")[2] != token.split(":")[2]
    settings.SECRET_KEY_FALLBACKS = []
    assert files.file_name_from_token(token) is None
    assert files.file_name_from_token(v1) is None


def test_the_url_follows_the_script_prefix_like_reverse(image):
    set_script_prefix("/studio/")
    try:
        url = files.file_url(image.image)
        assert url.startswith("/studio/headshots/file/")
        assert url == reverse("headshots:file", args=[_token(url)])
    finally:
        set_script_prefix("/")
    assert files.file_url(image.image).startswith("/headshots/file/")


def test_a_pages_url_maker_makes_the_tokens_file_token_makes(monkeypatch, media, member):
    """files.file_urls() resolves the prefix, signer and second once for a whole page."""
    images = list(finished_generation(member, n_images=3).images.order_by("index"))
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now)
    url = files.file_urls()
    for image in images:
        for field in (image.image, image.thumbnail):
            assert url(field) == reverse("headshots:file", args=[files.file_token(field.name)])
    assert url(images[0].image_webp) is None  # an empty file field has no URL
