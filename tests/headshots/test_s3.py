"""Storage on an S3-compatible server (moto's real HTTP endpoint): uploads and results land
in a private bucket and are handed out as presigned, expiring URLs."""

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile

from credits import services as credits_services
from headshots import files, services
from headshots.models import Status
from tests.factories import MembershipFactory, TeamFactory

pytestmark = pytest.mark.django_db
BUCKET = "studio-private"


@pytest.fixture(scope="module")
def s3_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_storage(settings, s3_server, monkeypatch):
    import boto3

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_server,
                "region_name": "us-east-1",
                "access_key": "testing",
                "secret_key": "testing",
                "default_acl": "private",
                "querystring_auth": True,
                "querystring_expire": 3600,
                "file_overwrite": False,
            },
        },
    }
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def test_a_generation_on_s3_stores_privately_and_hands_out_presigned_urls(
    s3_storage, s3_server, face_jpeg
):
    team = TeamFactory()
    user = MembershipFactory(team=team).user
    credits_services.credits_grant(
        team_id=team.id, user_id=user.id, amount=10, category="purchase", key="g"
    )
    generation, _ = services.headshot_submit(
        user=user,
        team_id=team.id,
        style_slug="corporate",
        aspect_ratio="1:1",
        quality="standard",
        batch_size=1,
        photo=SimpleUploadedFile("me.jpg", face_jpeg, content_type="image/jpeg"),
    )
    services.headshot_run(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == Status.COMPLETED

    keys = {item["Key"] for item in s3_storage.list_objects_v2(Bucket=BUCKET)["Contents"]}
    image = generation.images.get()
    assert {
        generation.source.name,
        image.image.name,
        image.image_webp.name,
        image.thumbnail.name,
    } <= keys

    plain = f"{s3_server}/{BUCKET}/{image.image.name}"
    assert requests.get(plain, timeout=5).status_code == 403  # private: no anonymous reads
    url = files.file_url(image.image)
    assert url.startswith(s3_server) and "Signature" in url and "Expires=" in url
    fetched = requests.get(url, timeout=5)
    assert fetched.status_code == 200
    assert fetched.content[:2] == b"\xff\xd8"
