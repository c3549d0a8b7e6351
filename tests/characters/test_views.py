"""The server-rendered studio: projects, characters, the studio page, the modal's live
cost, generate, switch (remembered), progress, rename/delete/activate/regenerate."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from characters import services
from characters.models import CharacterImageVersion, CharacterView, Project, Status
from credits import selectors as credits_selectors
from tests.characters.conftest import finished_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_client(client, studio):
    client.force_login(studio["alice"])
    return client


def test_projects_page_lists_team_projects_and_creates_one(alice_client, studio):
    page = alice_client.get("/characters/")
    assert page.status_code == 200
    assert b"Lighthouse" in page.content
    response = alice_client.post("/characters/", {"name": "Night Train", "team": studio["team"].id})
    project = Project.objects.get(name="Night Train")
    assert response.status_code == 302 and response.url == f"/characters/projects/{project.pk}/"
    assert project.created_by == studio["alice"]


def test_project_page_adds_a_character(alice_client, studio):
    url = f"/characters/projects/{studio['project'].pk}/"
    assert b"Mara" in alice_client.get(url).content
    response = alice_client.post(url, {"name": "Jonah"})
    assert response.status_code == 302
    assert studio["project"].characters.filter(name="Jonah").exists()


def test_pages_of_another_team_are_404(client, studio, media):
    version = finished_version(studio["character"], studio["alice"], number=1, active=True)
    client.force_login(studio["outsider"])
    c = studio["character"].pk
    for url in (
        f"/characters/projects/{studio['project'].pk}/",
        f"/characters/{c}/",
        f"/characters/{c}/versions/{version.pk}/",
        f"/characters/{c}/versions/{version.pk}/progress/",
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        f"/characters/projects/{studio['project'].pk}/delete/",
        f"/characters/{c}/delete/",
        f"/characters/{c}/generate/",
        f"/characters/{c}/estimate/",
        f"/characters/{c}/versions/{version.pk}/delete/",
        f"/characters/{c}/versions/{version.pk}/activate/",
    ):
        assert client.post(url).status_code == 404, url
    assert CharacterImageVersion.objects.filter(pk=version.pk, is_active=True).exists()
    assert Project.objects.filter(pk=studio["project"].pk).exists()


def test_anonymous_is_sent_to_login(client, studio):
    response = client.get(f"/characters/{studio['character'].pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_a_plain_member_cannot_delete_anothers_project_from_the_page(client, studio):
    client.force_login(studio["bob"])
    url = f"/characters/projects/{studio['project'].pk}/"
    assert b"Delete project" not in client.get(url).content
    response = client.post(f"/characters/projects/{studio['project'].pk}/delete/", follow=True)
    assert b"Only the project&#x27;s creator or a team admin" in response.content
    assert Project.objects.filter(pk=studio["project"].pk).exists()
    client.force_login(studio["admin"])
    assert b"Delete project" in client.get(url).content


def test_the_studio_page_has_the_generation_modal(alice_client, studio):
    page = alice_client.get(f"/characters/{studio['character'].pk}/").content.decode()
    assert 'id="generate-modal"' in page
    for slug in ("headshot", "medium-shot", "full-body", "over-the-shoulder", "expression-sheet",
                 "action-poses", "pose-sheet", "hero", "villain-reveal", "emotional-breakdown",
                 "victory", "defeated"):  # fmt: skip
        assert f'data-testid="template-{slug}"' in page, slug
    for style in ("realistic", "anime", "ghibli", "pixar", "disney", "cyberpunk"):
        assert f'data-testid="style-{style}"' in page
    for size in ("1:1", "4:3", "3:4", "16:9", "9:16"):
        assert f'value="{size}"' in page
    assert 'name="character_reference"' in page and 'name="character_reference_url"' in page
    assert 'name="background_reference"' in page and 'name="background_reference_url"' in page
    assert 'name="additional_description"' in page and 'name="version_name"' in page
    assert 'data-testid="viewer-empty"' in page


@pytest.mark.parametrize(
    ("fields", "credits"),
    [
        ({"template": "headshot"}, 4),
        ({"template": "expression-sheet"}, 12),
        ({"template": "hero"}, 5),
        ({"template": "headshot", "background_reference_url": "https://x.test/a.jpg"}, 5),
        ({"template": "pose-sheet", "background_chosen": "1"}, 13),
    ],
)
def test_the_live_cost(alice_client, studio, fields, credits):
    response = alice_client.post(
        f"/characters/{studio['character'].pk}/estimate/",
        {"art_style": "anime", "aspect_ratio": "16:9", **fields},
        HTTP_HX_REQUEST="true",
    )
    assert f'data-testid="estimate">{credits}<'.encode() in response.content
    assert b"you have 40" in response.content


def test_generate_from_the_page_holds_and_shows_progress(alice_client, studio, media, obama_jpeg):
    c = studio["character"].pk
    response = alice_client.post(
        f"/characters/{c}/generate/",
        {
            "template": "expression-sheet",
            "art_style": "realistic",
            "aspect_ratio": "1:1",
            "version_name": "First sheet",
            "character_reference": SimpleUploadedFile("o.jpg", obama_jpeg, "image/jpeg"),
            "submit_token": "tok-1",
        },
    )
    assert response.status_code == 302
    version = CharacterImageVersion.objects.get()
    assert (version.version_name, version.status, version.credit_cost) == (
        "First sheet",
        "queued",
        12,
    )
    page = alice_client.get(f"/characters/{c}/").content.decode()
    assert f'data-testid="job-{version.pk}"' in page and "every 1s" in page
    progress = alice_client.get(
        f"/characters/{c}/versions/{version.pk}/progress/", HTTP_HX_REQUEST="true"
    )
    assert b"Queued" in progress.content
    services.version_run(version_id=version.pk)
    done = alice_client.get(
        f"/characters/{c}/versions/{version.pk}/progress/", HTTP_HX_REQUEST="true"
    )
    assert done.status_code == 204 and done["HX-Refresh"] == "true"
    page = alice_client.get(f"/characters/{c}/").content.decode()
    assert f'data-version="{version.pk}"' in page and 'data-testid="viewer-active"' in page
    # The engine is named for a person; the model's internals stay in a tooltip.
    engine = page.split('data-testid="viewer-engine"', 1)[1].split("</dd>", 1)[0]
    assert ">Studio engine · seed" in engine and "mediapipe" not in engine.split(">", 1)[1]


def test_a_refused_generation_reopens_the_modal_with_the_reason(alice_client, studio, media):
    response = alice_client.post(
        f"/characters/{studio['character'].pk}/generate/",
        {"template": "headshot", "art_style": "anime", "aspect_ratio": "4:3",
         "additional_description": "red scarf"},
    )  # fmt: skip
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-testid="generate-error"' in page and "studio engine" in page
    assert 'data-open="1"' in page
    assert "red scarf" in page  # what was typed is kept
    assert 'value="anime" checked' in page
    assert not CharacterImageVersion.objects.exists()


def test_switching_versions_is_remembered_across_reloads(alice_client, studio, media):
    character = studio["character"]
    v1 = finished_version(character, studio["alice"], number=1)
    v2 = finished_version(character, studio["alice"], number=2, active=True)
    url = f"/characters/{character.pk}/"
    assert f'data-version="{v2.pk}"'.encode() in alice_client.get(url).content
    switched = alice_client.get(f"{url}versions/{v1.pk}/", HTTP_HX_REQUEST="true")
    assert f'data-version="{v1.pk}"'.encode() in switched.content
    assert b'hx-swap-oob="true"' in switched.content
    assert CharacterView.objects.get(user=studio["alice"]).version == v1
    assert f'data-version="{v1.pk}"'.encode() in alice_client.get(url).content
    v2.refresh_from_db()
    assert v2.is_active  # viewing is not activating


def test_activate_rename_delete_and_regenerate_from_the_page(
    alice_client, studio, media, obama_jpeg
):
    character = studio["character"]
    url = f"/characters/{character.pk}/"
    version, _ = services.version_generate(
        actor=studio["alice"],
        character_id=character.pk,
        template="headshot",
        art_style="pixar",
        aspect_ratio="3:4",
        character_reference=SimpleUploadedFile("o.jpg", obama_jpeg, "image/jpeg"),
    )
    services.version_run(version_id=version.pk)
    older = finished_version(character, studio["alice"], number=9)
    alice_client.post(f"{url}versions/{older.pk}/activate/")
    older.refresh_from_db()
    assert older.is_active
    alice_client.post(f"{url}versions/{version.pk}/rename/", {"version_name": "Hero look"})
    version.refresh_from_db()
    assert version.version_name == "Hero look"
    alice_client.post(f"{url}versions/{version.pk}/regenerate/", {"submit_token": "r1"})
    again = CharacterImageVersion.objects.get(regenerated_from=version)
    assert (again.template_type, again.art_style, again.aspect_ratio) == (
        "headshot",
        "pixar",
        "3:4",
    )
    assert (
        credits_selectors.balance_member(team_id=studio["team"].id, user_id=studio["alice"].id)
        == 40 - 4 - 4
    )
    alice_client.post(f"{url}versions/{older.pk}/delete/")
    version.refresh_from_db()
    assert version.is_active and version.status == Status.COMPLETED


def test_a_refused_project_is_explained_in_its_form_with_the_typing_kept(alice_client, studio):
    """Refusals were flash messages at the top of the page while the form emptied."""
    response = alice_client.post(
        "/characters/",
        {"team": studio["team"].id, "name": "   ", "description": "A stormy coast"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    form = html.split('data-testid="new-project"', 1)[1].split("</form>", 1)[0]
    assert 'data-testid="form-error"' in form
    assert "A stormy coast</textarea>" in form


def test_a_refused_character_is_explained_in_its_form_with_the_typing_kept(alice_client, studio):
    response = alice_client.post(
        f"/characters/projects/{studio['project'].pk}/",
        {"name": "", "description": "Grey wool coat"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    form = html.split('data-testid="new-character"', 1)[1].split("</form>", 1)[0]
    assert 'data-testid="form-error"' in form and "Grey wool coat</textarea>" in form
