"""A running job deleted outside the services (Django admin, a cascade from its project)
gives back its held credits: the sweep only sees job rows that still exist."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from characters import services as characters_services
from credits import selectors as credits_selectors
from credits.models import Hold
from headshots import services as headshot_services
from tests.characters.conftest import obama_jpeg, studio  # noqa: F401 - fixtures
from tests.factories import UserFactory, team_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _open(hold_key: str) -> int:
    return Hold.objects.get(key=hold_key).outstanding


def test_a_queued_headshot_deleted_outside_the_services_releases_its_hold(
    media, face_jpeg, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(headshot_services, "_enqueue", lambda pk: None)
    member = team_member(credits=40)
    generation, _ = headshot_services.headshot_submit(
        user=member,
        team_id=member.team.id,
        style_slug="corporate",
        aspect_ratio="1:1",
        quality="standard",
        batch_size=1,
        photo=SimpleUploadedFile("me.jpg", face_jpeg, content_type="image/jpeg"),
    )
    hold_key = generation.hold_key
    assert _open(hold_key) > 0
    with django_capture_on_commit_callbacks(execute=True):
        generation.delete()  # a shell, a cascade (the admin offers no delete for generations)
    assert _open(hold_key) == 0
    assert credits_selectors.balance_member(team_id=member.team.id, user_id=member.id) == 40
    assert credits_selectors.ledger_audit().clean


def test_a_project_deleted_in_admin_releases_the_hold_of_its_running_version(
    staff_client,
    studio,  # noqa: F811
    media,
    obama_jpeg,  # noqa: F811
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    monkeypatch.setattr(characters_services, "_enqueue", lambda pk: None)
    alice = studio["alice"]
    version, _ = characters_services.version_generate(
        actor=alice,
        character_id=studio["character"].pk,
        template="headshot",
        art_style="realistic",
        aspect_ratio="1:1",
        character_reference=SimpleUploadedFile("o.jpg", obama_jpeg, "image/jpeg"),
    )
    team_id = studio["team"].id
    assert credits_selectors.balance_member(team_id=team_id, user_id=alice.id) < 40
    url = reverse("admin:characters_project_delete", args=[studio["project"].pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert staff_client.post(url, {"post": "yes"}).status_code == 302
    assert _open(version.hold_key) == 0
    assert credits_selectors.balance_member(team_id=team_id, user_id=alice.id) == 40
    assert credits_selectors.ledger_audit().clean
