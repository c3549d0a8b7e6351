"""The whole mobile journey through the generated client against a live server and a
real Celery worker: sign up, log in, config, estimate, submit, poll, history, favourite,
download an image, export the ZIP, delete."""

import importlib
import io
import json
import time
import zipfile

import httpx
import pytest
from PIL import Image

from tests.mobile.conftest import PACKAGE

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "mobile@example.com"
PASSWORD = "a-long-mobile-password-1"


def _api(name: str):
    return importlib.import_module(f"{PACKAGE}.api.headshots.{name}")


@pytest.fixture
def _no_throttles(monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "allow_request", lambda self, request, view: True)


def _allauth(base: str, action: str) -> str:
    """Sign-up and login are allauth headless endpoints, outside our schema."""
    response = httpx.post(
        f"{base}/_allauth/app/v1/auth/{action}",
        json={"email": EMAIL, "password": PASSWORD},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"]["user"]["email"] == EMAIL
    return body["meta"]["session_token"]


def test_mobile_journey_through_the_generated_client(
    mobile_api, live_server, worker_process, face_jpeg, _no_throttles
):
    from portrait_mobile_client.models import (
        HeadshotAspectRatioEnum,
        HeadshotListSubmitSubmitRequest,
        HeadshotsImagesDownloadRetrieveFormat,
        HeadshotSpecRequest,
        QualityEnum,
    )
    from portrait_mobile_client.types import File

    base = live_server.url
    signup_token = _allauth(base, "signup")
    token = _allauth(base, "login")
    assert token and token != signup_token
    client = mobile_api.AuthenticatedClient(
        base_url=base,
        token=token,
        prefix="",
        auth_header_name="X-Session-Token",
        timeout=httpx.Timeout(30),
    )

    with client:
        config = _api("headshots_config_retrieve").sync(client=client)
        slugs = [style.slug for style in config.styles]
        assert "corporate" in slugs, slugs

        estimate = _api("headshots_estimate_create").sync(
            client=client,
            body=HeadshotSpecRequest(style="corporate", quality=QualityEnum.STANDARD, batch_size=1),
        )
        assert estimate.credits_ == 3

        submitted = _api("headshots_create").sync_detailed(
            client=client,
            body=HeadshotListSubmitSubmitRequest(
                style="corporate",
                aspect_ratio=HeadshotAspectRatioEnum("1:1"),
                quality=QualityEnum.STANDARD,
                batch_size=1,
                photo=File(
                    payload=io.BytesIO(face_jpeg), file_name="me.jpg", mime_type="image/jpeg"
                ),
            ),
        )
        assert submitted.status_code == 202, submitted.content
        generation = submitted.parsed
        assert generation.credits_held == 3
        me = importlib.import_module(f"{PACKAGE}.api.me.me_retrieve").sync(client=client)
        assert me.email == EMAIL
        assert me.total_balance == 7  # 10 free credits, 3 on hold

        deadline = time.monotonic() + 90
        while generation.status not in ("completed", "failed", "refunded"):
            assert time.monotonic() < deadline, (
                f"still {generation.status} at {generation.progress}%"
            )
            time.sleep(0.5)
            generation = _api("headshots_retrieve").sync(generation.id, client=client)
        assert generation.status == "completed", (generation.error_code, generation.error_message)
        assert generation.progress == 100
        assert generation.credits_used == 3
        assert len(generation.images) == 1

        history = _api("headshots_list").sync(client=client)
        assert history.count == 1
        assert [item.id for item in history.results] == [generation.id]
        assert history.results[0].status == "completed"

        favourite = _api("headshots_favorite_create").sync(generation.id, client=client)
        assert favourite.is_favorite
        assert _api("headshots_list").sync(client=client, favorite=True).count == 1

        # Downloads are binary responses: the generated client hands back a File.
        [image] = generation.images
        download = _api("headshots_images_download_retrieve").sync(image.id, client=client)
        assert isinstance(download, File), download
        picture = Image.open(download.payload)
        picture.load()  # every byte decodes, not just the header
        assert (picture.format, picture.size) == ("JPEG", (image.width, image.height))
        png = _api("headshots_images_download_retrieve").sync(
            image.id, client=client, format_=HeadshotsImagesDownloadRetrieveFormat.PNG
        )
        assert isinstance(png, File), png
        as_png = Image.open(png.payload)
        as_png.load()
        assert (as_png.format, as_png.size) == ("PNG", picture.size)

        export = _api("headshots_export_retrieve").sync(generation.id, client=client)
        assert isinstance(export, File), export
        archive = zipfile.ZipFile(export.payload)
        assert archive.testzip() is None  # every member's CRC checks out
        sizes = ["full"] + [f"{px}px" for px in (1024, 512, 256) if max(picture.size) > px]
        expected = {f"headshot-1/{size}.jpg" for size in sizes}
        assert set(archive.namelist()) == expected | {"metadata.json"}
        metadata = json.loads(archive.read("metadata.json"))
        assert metadata["generation"] == generation.id
        assert metadata["credits_used"] == 3
        [described] = metadata["images"]
        assert {entry["file"] for entry in described["files"]} == expected
        for entry in described["files"]:
            member = Image.open(io.BytesIO(archive.read(entry["file"])))
            assert (member.format, member.size) == ("JPEG", (entry["width"], entry["height"]))
        full = Image.open(io.BytesIO(archive.read("headshot-1/full.jpg")))
        assert full.size == picture.size

        deleted = _api("headshots_destroy").sync_detailed(generation.id, client=client)
        assert deleted.status_code == 204
        gone = _api("headshots_retrieve").sync_detailed(generation.id, client=client)
        assert gone.status_code == 404
        assert _api("headshots_list").sync(client=client).count == 0
