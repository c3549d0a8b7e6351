"""The /api/v1/characters/ contract: config, projects, characters, versions, generate,
activate; JSON errors, pagination, and who may see and do what."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from characters import services
from characters.models import Character, CharacterImageVersion, Project
from characters.pricing import character_price
from credits import selectors as credits_selectors
from tests.characters.conftest import finished_version
from tests.conftest import client_for
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/characters"


def _file(data: bytes, name="ref.jpg"):
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def _generate(client, character_id, **fields):
    data = {"template": "headshot", "art_style": "realistic", "aspect_ratio": "1:1", **fields}
    return client.post(f"{BASE}/{character_id}/versions", data, format="multipart")


def test_config_lists_templates_with_costs_art_styles_and_sizes(studio):
    data = client_for(studio["alice"]).get(f"{BASE}/config").json()
    costs = {t["value"]: t["credits"] for t in data["templates"]}
    assert costs == {slug: character_price(template=slug) for slug in costs}
    assert len(costs) == 12
    sheet = next(t for t in data["templates"] if t["value"] == "expression-sheet")
    assert sheet["panels"] == [
        "Happy", "Sad", "Angry", "Surprised", "Fear", "Disgust", "Neutral", "Smirk", "Laugh",
    ]  # fmt: skip
    pose = next(t for t in data["templates"] if t["value"] == "pose-sheet")
    assert pose["seed_locked"] and len(pose["panels"]) == 9
    assert {s["value"] for s in data["sizes"]} == {"1:1", "4:3", "3:4", "16:9", "9:16"}
    assert [s["value"] for s in data["art_styles"]][:6] == [
        "realistic", "anime", "ghibli", "pixar", "disney", "cyberpunk",
    ]  # fmt: skip
    assert data["background_surcharge"] == 1


def test_estimate_follows_the_one_pricing_rule(studio):
    client = client_for(studio["alice"])
    for template in ("headshot", "expression-sheet", "villain-reveal"):
        for background in (False, True):
            response = client.post(
                f"{BASE}/estimate", {"template": template, "background": background}, format="json"
            )
            assert response.json()["credits"] == character_price(
                template=template, with_background=background
            )
    bad = client.post(f"{BASE}/estimate", {"template": "selfie"}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"


def test_config_estimate_submit_and_page_all_use_the_one_price(
    studio, media, obama_jpeg, monkeypatch, client
):
    """Change the price table: every surface follows, so none keeps its own copy."""
    from characters import pricing

    monkeypatch.setitem(pricing.GROUP_COST, "sheet", 17)
    alice = client_for(studio["alice"])
    config = alice.get(f"{BASE}/config").json()
    assert next(t for t in config["templates"] if t["value"] == "action-poses")["credits"] == 17
    estimate = alice.post(f"{BASE}/estimate", {"template": "pose-sheet"}, format="json").json()
    assert estimate["credits"] == 17
    client.force_login(studio["alice"])
    page = client.post(
        f"/characters/{studio['character'].pk}/estimate/",
        {"template": "expression-sheet", "art_style": "anime", "aspect_ratio": "1:1"},
    )
    assert b'data-testid="estimate">17<' in page.content
    response = _generate(
        alice,
        studio["character"].pk,
        template="expression-sheet",
        character_reference=_file(obama_jpeg),
    )
    assert response.status_code == 202, response.json()
    assert response.json()["credit_cost"] == 17
    assert (
        credits_selectors.balance_member(team_id=studio["team"].id, user_id=studio["alice"].id)
        == 40 - 17
    )


def test_projects_are_shared_with_the_team(studio):
    alice, bob = client_for(studio["alice"]), client_for(studio["bob"])
    created = bob.post(
        f"{BASE}/projects", {"team": studio["team"].id, "name": "Second film"}, format="json"
    )
    assert created.status_code == 201
    names = [p["name"] for p in alice.get(f"{BASE}/projects").json()["results"]]
    assert sorted(names) == ["Lighthouse", "Second film"]
    outsider = client_for(studio["outsider"]).get(f"{BASE}/projects").json()
    assert outsider["count"] == 0


def test_creating_a_project_in_a_team_i_am_not_in_is_404(studio):
    response = client_for(studio["outsider"]).post(
        f"{BASE}/projects", {"team": studio["team"].id, "name": "Sneaky"}, format="json"
    )
    assert response.status_code == 404
    assert not Project.objects.filter(name="Sneaky").exists()


def test_a_plain_member_cannot_delete_anothers_project(studio):
    project = studio["project"]  # alice's
    response = client_for(studio["bob"]).delete(f"{BASE}/projects/{project.pk}")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert Project.objects.filter(pk=project.pk).exists()


def test_the_creator_may_delete_her_project(studio):
    project = studio["project"]
    assert client_for(studio["alice"]).delete(f"{BASE}/projects/{project.pk}").status_code == 204
    assert not Project.objects.filter(pk=project.pk).exists()
    assert not Character.objects.filter(project_id=project.pk).exists()


def test_a_team_admin_may_delete_any_project_of_the_team(studio, media):
    project = studio["project"]
    finished_version(studio["character"], studio["alice"], number=1, active=True)
    response = client_for(studio["admin"]).delete(f"{BASE}/projects/{project.pk}")
    assert response.status_code == 204
    assert not CharacterImageVersion.objects.exists()


def test_a_plain_member_cannot_delete_anothers_character_but_may_rename_it(studio):
    character = studio["character"]
    bob = client_for(studio["bob"])
    assert bob.delete(f"{BASE}/{character.pk}").status_code == 403
    renamed = bob.patch(f"{BASE}/{character.pk}", {"name": "Mara Vale"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Mara Vale"


def test_a_project_with_a_running_version_cannot_be_deleted(studio, media, obama_jpeg):
    alice = client_for(studio["alice"])
    _generate(alice, studio["character"].pk, character_reference=_file(obama_jpeg))
    response = alice.delete(f"{BASE}/projects/{studio['project'].pk}")
    assert response.status_code == 409


def test_generate_answers_202_holds_and_the_detail_follows_it(
    studio, media, obama_jpeg, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(services, "_enqueue", queued.append)
    alice = client_for(studio["alice"])
    with django_capture_on_commit_callbacks(execute=True):
        response = _generate(
            alice,
            studio["character"].pk,
            template="expression-sheet",
            version_name="Sheet",
            character_reference=_file(obama_jpeg),
        )
    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["status"], body["credit_cost"], body["mode"]) == ("queued", 12, "image_to_image")
    assert body["character_reference_url"]
    assert queued == [body["id"]]
    services.version_run(version_id=body["id"])
    detail = alice.get(f"{BASE}/{studio['character'].pk}/versions/{body['id']}").json()
    assert detail["status"] == "completed" and detail["is_active"]
    assert detail["image_url"] and detail["identity_score"] is not None
    character = alice.get(f"{BASE}/{studio['character'].pk}").json()
    assert character["active_version"]["id"] == body["id"]
    assert character["image_url"] and len(character["poses"]) == 9
    assert character["last_viewed_version_id"] == body["id"]


def test_generate_with_the_same_idempotency_key_charges_once(studio, media, obama_jpeg):
    alice = client_for(studio["alice"])
    first = alice.post(
        f"{BASE}/{studio['character'].pk}/versions",
        {"template": "headshot", "character_reference": _file(obama_jpeg)},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="abc",
    )
    second = alice.post(
        f"{BASE}/{studio['character'].pk}/versions",
        {"template": "headshot", "character_reference": _file(obama_jpeg)},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="abc",
    )
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    assert CharacterImageVersion.objects.count() == 1


def test_generate_without_a_reference_on_the_studio_engine_is_400(studio, media):
    response = _generate(client_for(studio["alice"]), studio["character"].pk)
    assert response.status_code == 400
    assert response.json()["code"] == "reference_required"
    assert "studio engine" in response.json()["detail"]
    assert not CharacterImageVersion.objects.exists()


def test_a_reference_link_to_a_local_address_is_refused_and_charges_nothing(
    studio, media, http_server, obama_jpeg
):
    http_server.image("/face.jpg", obama_jpeg)
    for url in (http_server.url("/face.jpg"), "http://localhost/face.jpg", "http://10.0.0.8/a.jpg"):
        response = _generate(
            client_for(studio["alice"]), studio["character"].pk, character_reference_url=url
        )
        assert response.status_code == 400, url
        assert response.json()["code"] == "reference_url_private", url
    assert http_server.hits == []
    assert not CharacterImageVersion.objects.exists()
    assert (
        credits_selectors.balance_member(team_id=studio["team"].id, user_id=studio["alice"].id)
        == 40
    )


def test_a_reference_link_that_redirects_to_a_local_address_is_refused(
    studio, media, http_server, second_server, monkeypatch, obama_jpeg
):
    """The first hop is public (here: the test server, allowed for this test only); the
    redirect points at another loopback address and is never followed."""
    from characters import fetch

    real = fetch.address_allowed
    monkeypatch.setattr(fetch, "address_allowed", lambda a: str(a) == "127.0.0.1" or real(a))
    second_server.image("/internal.jpg", obama_jpeg)
    http_server.redirect("/face.jpg", second_server.url("/internal.jpg"))
    response = _generate(
        client_for(studio["alice"]),
        studio["character"].pk,
        character_reference_url=http_server.url("/face.jpg"),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "reference_url_private"
    assert second_server.hits == []
    # The same link without the redirect works: the refusal was the redirect's.
    http_server.image("/direct.jpg", obama_jpeg)
    ok = _generate(
        client_for(studio["alice"]),
        studio["character"].pk,
        character_reference_url=http_server.url("/direct.jpg"),
    )
    assert ok.status_code == 202, ok.json()
    assert ok.json()["character_reference_url"]


def test_versions_list_is_paginated_newest_first_with_a_fixed_query_count(studio, media):
    character = studio["character"]
    for number in range(1, 4):
        finished_version(character, studio["alice"], number=number)
    client = client_for(studio["bob"])
    url = f"{BASE}/{character.pk}/versions"
    with CaptureQueriesContext(connection) as three:
        data = client.get(url).json()
    assert [v["version_number"] for v in data["results"]] == [3, 2, 1]
    for number in range(4, 9):
        finished_version(character, studio["alice"], number=number)
    with CaptureQueriesContext(connection) as eight:
        data = client.get(url + "?page_size=5").json()
    assert data["count"] == 8 and len(data["results"]) == 5 and data["next"]
    assert len(eight) == len(three)


def test_project_and_character_lists_run_a_fixed_number_of_queries(studio, media):
    alice = client_for(studio["alice"])
    with CaptureQueriesContext(connection) as one:
        alice.get(f"{BASE}/projects/{studio['project'].pk}/characters")
    for n in range(4):
        extra = services.character_create(
            actor=studio["alice"], project_id=studio["project"].pk, name=f"Extra {n}"
        )
        finished_version(extra, studio["alice"], number=1, active=True)
        services.project_create(actor=studio["alice"], team_id=studio["team"].id, name=f"P{n}")
    with CaptureQueriesContext(connection) as five:
        data = alice.get(f"{BASE}/projects/{studio['project'].pk}/characters").json()
    assert data["count"] == 5
    assert all(c["active_version"] for c in data["results"] if c["name"].startswith("Extra"))
    assert len(five) == len(one)
    with CaptureQueriesContext(connection) as projects:
        assert alice.get(f"{BASE}/projects").json()["count"] == 5
    assert len(projects) <= 4


def test_activate_rename_and_delete_a_version(studio, media):
    character = studio["character"]
    v1 = finished_version(character, studio["alice"], number=1, active=True)
    v2 = finished_version(character, studio["alice"], number=2)
    v3 = finished_version(character, studio["alice"], number=3)
    bob = client_for(studio["bob"])
    url = f"{BASE}/{character.pk}/versions"
    assert bob.post(f"{url}/{v2.pk}/activate").json()["is_active"]
    assert list(CharacterImageVersion.objects.filter(is_active=True)) == [v2]
    character.refresh_from_db()
    assert character.image.name == v2.image.name

    renamed = bob.patch(f"{url}/{v1.pk}", {"version_name": "Pilot look"}, format="json")
    assert renamed.json()["version_name"] == "Pilot look"
    assert bob.patch(f"{url}/{v1.pk}", {"version_name": " "}, format="json").status_code == 400

    # bob neither made v2 nor the character: only alice or an admin may delete it.
    assert bob.delete(f"{url}/{v2.pk}").status_code == 403
    alice = client_for(studio["alice"])
    assert alice.delete(f"{url}/{v2.pk}").status_code == 204
    # Deleting the active version activates the newest remaining one.
    v3.refresh_from_db()
    assert v3.is_active
    character.refresh_from_db()
    assert character.image.name == v3.image.name
    assert alice.delete(f"{url}/{v3.pk}").status_code == 204
    v1.refresh_from_db()
    assert v1.is_active
    assert alice.delete(f"{url}/{v1.pk}").status_code == 204
    character.refresh_from_db()
    assert not character.image and character.poses == []


def test_a_running_version_cannot_be_activated_or_deleted(studio, media, obama_jpeg):
    alice = client_for(studio["alice"])
    version = _generate(alice, studio["character"].pk, character_reference=_file(obama_jpeg)).json()
    url = f"{BASE}/{studio['character'].pk}/versions/{version['id']}"
    assert alice.post(f"{url}/activate").status_code == 409
    assert alice.delete(url).status_code == 409


def test_regenerate_through_the_api(studio, media, obama_jpeg):
    alice = client_for(studio["alice"])
    first = _generate(
        alice, studio["character"].pk, template="victory", character_reference=_file(obama_jpeg)
    ).json()
    services.version_run(version_id=first["id"])
    again = alice.post(
        f"{BASE}/{studio['character'].pk}/versions",
        {"regenerate_from": first["id"]},
        format="json",
    )
    assert again.status_code == 202, again.json()
    assert again.json()["template_type"] == "victory"
    assert again.json()["credit_cost"] == character_price(template="victory")


def test_last_viewed_version_is_remembered_per_member(studio, media):
    character = studio["character"]
    v1 = finished_version(character, studio["alice"], number=1)
    v2 = finished_version(character, studio["alice"], number=2, active=True)
    alice, bob = client_for(studio["alice"]), client_for(studio["bob"])
    assert alice.get(f"{BASE}/{character.pk}").json()["last_viewed_version_id"] == v2.pk
    alice.patch(f"{BASE}/{character.pk}", {"last_viewed_version": v1.pk}, format="json")
    assert alice.get(f"{BASE}/{character.pk}").json()["last_viewed_version_id"] == v1.pk
    assert bob.get(f"{BASE}/{character.pk}").json()["last_viewed_version_id"] == v2.pk


def _every_endpoint(studio, version):
    c, p, v = studio["character"].pk, studio["project"].pk, version.pk
    return [
        ("get", f"{BASE}/projects/{p}"),
        ("patch", f"{BASE}/projects/{p}"),
        ("delete", f"{BASE}/projects/{p}"),
        ("get", f"{BASE}/projects/{p}/characters"),
        ("post", f"{BASE}/projects/{p}/characters"),
        ("get", f"{BASE}/{c}"),
        ("patch", f"{BASE}/{c}"),
        ("delete", f"{BASE}/{c}"),
        ("get", f"{BASE}/{c}/versions"),
        ("post", f"{BASE}/{c}/versions"),
        ("get", f"{BASE}/{c}/versions/{v}"),
        ("patch", f"{BASE}/{c}/versions/{v}"),
        ("delete", f"{BASE}/{c}/versions/{v}"),
        ("post", f"{BASE}/{c}/versions/{v}/activate"),
    ]


def test_a_member_of_another_team_gets_404_on_every_character_endpoint(studio, media):
    version = finished_version(studio["character"], studio["alice"], number=1, active=True)
    outsider = client_for(studio["outsider"])
    bodies = {
        "post": {"name": "x", "template": "headshot", "regenerate_from": version.pk},
        "patch": {"name": "x", "version_name": "x"},
    }
    for method, url in _every_endpoint(studio, version):
        response = getattr(outsider, method)(url, bodies.get(method), format="json")
        assert response.status_code == 404, (method, url, response.status_code)
        assert response.json()["code"] == "not_found"
    version.refresh_from_db()
    assert version.version_name == "Version 1" and version.is_active
    assert Project.objects.count() == 1 and Character.objects.count() == 1


def test_a_removed_member_loses_access(studio, media):
    from teams.models import Membership

    Membership.objects.filter(user=studio["bob"]).delete()
    response = client_for(studio["bob"]).get(f"{BASE}/{studio['character'].pk}")
    assert response.status_code == 404


def test_anonymous_gets_401_on_every_character_endpoint(studio, media, api):
    version = finished_version(studio["character"], studio["alice"], number=1)
    urls = [
        ("get", f"{BASE}/config"),
        ("post", f"{BASE}/estimate"),
        ("get", f"{BASE}/projects"),
        ("post", f"{BASE}/projects"),
        *_every_endpoint(studio, version),
    ]
    for method, url in urls:
        assert getattr(api, method)(url).status_code == 401, (method, url)


def test_new_members_see_existing_projects(studio):
    newcomer = MembershipFactory(team=studio["team"]).user
    data = client_for(newcomer).get(f"{BASE}/projects").json()
    assert [p["name"] for p in data["results"]] == ["Lighthouse"]


def test_the_schema_documents_the_character_endpoints(studio):
    response = client_for(studio["alice"]).get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    import json

    schema = json.loads(response.content)
    paths = schema["paths"]
    for path in (
        "/api/v1/characters/config",
        "/api/v1/characters/projects",
        "/api/v1/characters/projects/{project_id}/characters",
        "/api/v1/characters/{character_id}",
        "/api/v1/characters/{character_id}/versions",
        "/api/v1/characters/{character_id}/versions/{version_id}",
        "/api/v1/characters/{character_id}/versions/{version_id}/activate",
    ):
        assert path in paths, path
    post = paths["/api/v1/characters/{character_id}/versions"]["post"]
    assert "multipart/form-data" in post["requestBody"]["content"]
    assert "202" in post["responses"]


def test_generating_counts_against_the_submit_rate_but_reading_does_not(studio, media, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {"anon": "50/min", "user": "50/min", "submit": "2/min"},
    )
    alice = client_for(studio["alice"])
    url = f"{BASE}/{studio['character'].pk}/versions"
    for _ in range(3):
        assert alice.get(url).status_code == 200
    codes = [_generate(alice, studio["character"].pk).status_code for _ in range(3)]
    assert codes == [400, 400, 429]  # refused without a reference, but counted
