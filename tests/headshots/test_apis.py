import io
import json
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credits import selectors as credits_selectors
from headshots import services
from headshots.models import HeadshotGeneration, HeadshotStyle, Status
from tests.conftest import client_for
from tests.factories import (
    MembershipFactory,
    TeamFactory,
    UserFactory,
    finished_generation,
    team_member,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(db):
    return team_member(credits=100)


def _post_photo(client, photo, **fields):
    data = {
        "style": "corporate",
        "aspect_ratio": "1:1",
        "quality": "standard",
        "batch_size": 1,
        **fields,
    }
    data["photo"] = io.BytesIO(photo)
    data["photo"].name = "me.jpg"
    return client.post("/api/v1/headshots", data, format="multipart")


def test_config_lists_the_seeded_styles_with_categories(member):
    data = client_for(member).get("/api/v1/headshots/config").json()
    assert len(data["styles"]) == 11
    assert {s["category"] for s in data["styles"]} == {
        "business",
        "creative",
        "entertainment",
        "specialized",
        "premium",
    }
    assert [a["value"] for a in data["aspect_ratios"]] == ["1:1", "3:4", "4:5"]
    assert data["batch_size"] == {"min": 1, "max": 4}


@pytest.mark.parametrize(
    "quality,batch,premium,expected",
    [
        ("standard", 1, False, 3),
        ("high", 1, False, 4),
        ("ultra", 1, False, 5),
        ("standard", 4, False, 9),
        ("high", 2, True, 7),
    ],
)
def test_estimate_follows_the_pricing_table(member, quality, batch, premium, expected):
    HeadshotStyle.objects.filter(slug="corporate").update(is_premium=premium, base_cost=3)
    response = client_for(member).post(
        "/api/v1/headshots/estimate",
        {"style": "corporate", "quality": quality, "batch_size": batch, "aspect_ratio": "1:1"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["credits"] == expected


@pytest.mark.parametrize("batch", [0, 5, 2.5, "two"])
def test_estimate_refuses_a_bad_batch_size(member, batch):
    response = client_for(member).post(
        "/api/v1/headshots/estimate", {"style": "corporate", "batch_size": batch}, format="json"
    )
    assert response.status_code == 400


def test_estimate_refuses_an_unknown_style(member):
    response = client_for(member).post(
        "/api/v1/headshots/estimate", {"style": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_style"


def test_team_policy_limits_the_styles(member):
    from headshots.models import TeamStylePolicy

    policy = TeamStylePolicy.objects.create(team=member.team)
    policy.allowed_styles.set(HeadshotStyle.objects.filter(slug="linkedin"))
    data = client_for(member).get(f"/api/v1/headshots/config?team={member.team.id}").json()
    assert [s["slug"] for s in data["styles"]] == ["linkedin"]
    response = client_for(member).post(
        "/api/v1/headshots/estimate", {"style": "corporate", "team": member.team.id}, format="json"
    )
    assert response.status_code == 400


def test_submit_answers_202_and_holds_credits(
    member, media, face_jpeg, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        response = _post_photo(client_for(member), face_jpeg, team=member.team.id)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued" and body["credits_held"] == 3
    assert credits_selectors.balance_member(team_id=member.team.id, user_id=member.id) == 97


def test_submit_with_the_same_idempotency_key_charges_once(
    member, media, face_jpeg, django_capture_on_commit_callbacks
):
    client = client_for(member)
    with django_capture_on_commit_callbacks(execute=False):
        first = client.post(
            "/api/v1/headshots",
            {"style": "corporate", "team": member.team.id, "photo": _named(face_jpeg)},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="same",
        )
        second = client.post(
            "/api/v1/headshots",
            {"style": "corporate", "team": member.team.id, "photo": _named(face_jpeg)},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="same",
        )
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    assert credits_selectors.balance_member(team_id=member.team.id, user_id=member.id) == 97


def _named(data: bytes, name="me.jpg"):
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def test_submit_without_a_photo_is_a_clear_400(member, media):
    response = client_for(member).post(
        "/api/v1/headshots", {"style": "corporate"}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "photo_required"


def test_submit_of_not_an_image_is_refused_and_charges_nothing(member, media):
    response = client_for(member).post(
        "/api/v1/headshots",
        {"style": "corporate", "photo": _named(b"%PDF-1.4 not a photo", "me.jpg")},
        format="multipart",
    )
    assert response.status_code == 422
    assert credits_selectors.balance_member(team_id=member.team.id, user_id=member.id) == 100
    assert not HeadshotGeneration.objects.exists()


def test_submit_with_too_few_credits_is_402(media, face_jpeg):
    team = TeamFactory()
    poor = MembershipFactory(team=team).user
    response = client_for(poor).post(
        "/api/v1/headshots",
        {"style": "corporate", "team": team.id, "photo": _named(face_jpeg)},
        format="multipart",
    )
    assert response.status_code == 402
    assert response.json()["code"] == "insufficient_credits"
    assert not HeadshotGeneration.objects.exists()


def test_submit_to_a_team_that_is_not_mine_is_404(member, media, face_jpeg):
    other = TeamFactory()
    response = client_for(member).post(
        "/api/v1/headshots",
        {"style": "corporate", "team": other.id, "photo": _named(face_jpeg)},
        format="multipart",
    )
    assert response.status_code == 404


@pytest.mark.parametrize("rows", [1, 20])
def test_history_runs_a_fixed_number_of_queries_whatever_the_page_size(member, media, rows):
    for _ in range(rows):
        finished_generation(member, n_images=2)
    client = client_for(member)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/headshots?page_size=20")
    assert response.status_code == 200
    assert len(response.json()["results"]) == rows
    # count, page of generations (+style), their images
    assert len(queries) == 3, [q["sql"] for q in queries]


def test_history_filters_by_favorite_status_and_style(member, media):
    a = finished_generation(member)
    finished_generation(member, status=Status.FAILED)
    services.headshot_set_favorite(user=member, generation_id=a.pk, favorite=True)
    client = client_for(member)
    assert [g["id"] for g in client.get("/api/v1/headshots?favorite=true").json()["results"]] == [
        a.pk
    ]
    assert len(client.get("/api/v1/headshots?status=failed").json()["results"]) == 1
    assert len(client.get("/api/v1/headshots?style=corporate").json()["results"]) == 2
    assert client.get("/api/v1/headshots?style=editorial").json()["results"] == []


def test_another_users_headshot_is_404_everywhere(member, media):
    generation = finished_generation(member)
    stranger = client_for(UserFactory())
    image_id = generation.images.first().pk
    for method, url in [
        ("get", f"/api/v1/headshots/{generation.pk}"),
        ("delete", f"/api/v1/headshots/{generation.pk}"),
        ("post", f"/api/v1/headshots/{generation.pk}/favorite"),
        ("post", f"/api/v1/headshots/{generation.pk}/retry"),
        ("get", f"/api/v1/headshots/{generation.pk}/export"),
        ("get", f"/api/v1/headshots/images/{image_id}/download"),
        ("post", f"/api/v1/headshots/images/{image_id}/share"),
    ]:
        assert getattr(stranger, method)(url).status_code == 404, url
    generation.refresh_from_db()
    assert generation.deleted_at is None and not generation.is_favorite


def test_detail_gives_signed_image_urls_that_serve_the_file(member, media, client):
    generation = finished_generation(member)
    data = client_for(member).get(f"/api/v1/headshots/{generation.pk}").json()
    url = data["images"][0]["url"]
    assert url.startswith("/headshots/file/")
    assert client.get(url).status_code == 200  # no session needed: the signature is the key
    assert client.get(url[:-3] + "xx/").status_code == 404


def test_favorite_and_unfavorite(member, media):
    generation = finished_generation(member)
    client = client_for(member)
    assert client.post(f"/api/v1/headshots/{generation.pk}/favorite").json()["is_favorite"] is True
    assert (
        client.delete(f"/api/v1/headshots/{generation.pk}/favorite").json()["is_favorite"] is False
    )


def test_delete_is_soft_and_hides_it(member, media):
    generation = finished_generation(member)
    client = client_for(member)
    assert client.delete(f"/api/v1/headshots/{generation.pk}").status_code == 204
    assert client.get(f"/api/v1/headshots/{generation.pk}").status_code == 404
    generation.refresh_from_db()
    assert generation.deleted_at is not None


def test_bulk_favorite_and_delete_touch_only_my_own(member, media):
    mine = [finished_generation(member) for _ in range(3)]
    other_user = UserFactory()
    other_user.team = member.team
    theirs = finished_generation(other_user)
    client = client_for(member)
    ids = [g.pk for g in mine] + [theirs.pk]
    assert client.post(
        "/api/v1/headshots/bulk", {"ids": ids, "action": "favorite"}, format="json"
    ).json() == {"updated": 3}
    assert client.post(
        "/api/v1/headshots/bulk", {"ids": ids, "action": "delete"}, format="json"
    ).json() == {"updated": 3}
    theirs.refresh_from_db()
    assert theirs.deleted_at is None and not theirs.is_favorite


def test_export_zip_has_several_sizes_and_metadata(member, media):
    generation = finished_generation(member, n_images=2)
    response = client_for(member).get(f"/api/v1/headshots/{generation.pk}/export?watermark=1")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    meta = json.loads(archive.read("metadata.json"))
    assert len(meta["images"]) == 2
    assert {f["file"] for f in meta["images"][0]["files"]} <= set(archive.namelist())


@pytest.mark.parametrize(
    "fmt,magic", [("jpeg", b"\xff\xd8"), ("png", b"\x89PNG"), ("webp", b"RIFF")]
)
def test_download_in_each_format(member, media, fmt, magic):
    generation = finished_generation(member)
    response = client_for(member).get(
        f"/api/v1/headshots/images/{generation.images.first().pk}/download?format={fmt}"
    )
    assert response.status_code == 200
    assert response.content.startswith(magic)


def test_share_link_shows_the_image_without_login(member, media, client):
    generation = finished_generation(member)
    response = client_for(member).post(
        f"/api/v1/headshots/images/{generation.images.first().pk}/share"
    )
    assert response.status_code == 201
    page = client.get(response.json()["url"])
    assert page.status_code == 200
    assert b"Shared headshot" in page.content


def test_retry_of_a_completed_generation_is_a_conflict(member, media):
    generation = finished_generation(member)
    response = client_for(member).post(f"/api/v1/headshots/{generation.pk}/retry")
    assert response.status_code == 409


def _failed_submission(member, face_jpeg, monkeypatch, **fields) -> int:
    """A generation submitted through the API whose run failed: its upload is kept."""
    from headshots import engine

    response = _post_photo(client_for(member), face_jpeg, **fields)
    assert response.status_code == 202, response.json()
    with monkeypatch.context() as patch:
        patch.setattr(
            engine, "render_one", lambda **kw: (_ for _ in ()).throw(engine.EngineError("down"))
        )
        services.headshot_run(generation_id=response.json()["id"])
    return response.json()["id"]


def test_retry_of_alone_runs_the_original_options_again(member, media, face_jpeg, monkeypatch):
    failed = _failed_submission(member, face_jpeg, monkeypatch, quality="high")
    response = client_for(member).post("/api/v1/headshots", {"retry_of": failed}, format="json")
    assert response.status_code == 202, response.json()
    assert response.json()["id"] == failed
    assert response.json()["quality"] == "high"
    assert response.json()["status"] == "queued"


def test_retry_of_with_the_same_options_is_accepted(member, media, face_jpeg, monkeypatch):
    failed = _failed_submission(member, face_jpeg, monkeypatch)
    response = client_for(member).post(
        "/api/v1/headshots",
        {"retry_of": failed, "style": "corporate", "quality": "standard"},
        format="json",
    )
    assert response.status_code == 202, response.json()


@pytest.mark.parametrize(
    "changed", [{"style": "medical"}, {"quality": "ultra"}, {"batch_size": 3}, {"style": "9" * 40}]
)
def test_retry_of_with_other_options_is_refused_not_silently_ignored(
    member, media, face_jpeg, monkeypatch, changed
):
    failed = _failed_submission(member, face_jpeg, monkeypatch)
    held_before = credits_selectors.balance_member(team_id=member.team.id, user_id=member.id)
    response = client_for(member).post(
        "/api/v1/headshots", {"retry_of": failed, **changed}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "retry_options_differ"
    assert "upload the photo again" in response.json()["detail"]
    assert HeadshotGeneration.objects.get(pk=failed).status == Status.FAILED
    assert (
        credits_selectors.balance_member(team_id=member.team.id, user_id=member.id) == held_before
    )


def test_retry_of_with_a_photo_is_refused(member, media, face_jpeg, monkeypatch):
    failed = _failed_submission(member, face_jpeg, monkeypatch)
    response = _post_photo(client_for(member), face_jpeg, retry_of=failed)
    assert response.status_code == 400
    assert "not both" in response.json()["detail"]
    assert HeadshotGeneration.objects.count() == 1


def test_a_blank_retry_of_in_a_form_is_a_new_photo_with_its_defaults(member, media, face_jpeg):
    photo = io.BytesIO(face_jpeg)
    photo.name = "me.jpg"
    response = client_for(member).post(
        "/api/v1/headshots",
        {"photo": photo, "style": "corporate", "retry_of": ""},
        format="multipart",
    )
    assert response.status_code == 202, response.json()
    assert response.json()["aspect_ratio"] == "1:1"


def test_a_new_submission_still_needs_a_style(member, media, face_jpeg):
    photo = io.BytesIO(face_jpeg)
    photo.name = "me.jpg"
    response = client_for(member).post("/api/v1/headshots", {"photo": photo}, format="multipart")
    assert response.status_code == 400
    assert response.json()["fields"] == {"style": ["This field is required."]}


def test_anonymous_gets_401_on_headshot_endpoints(api):
    for url in ["/api/v1/headshots", "/api/v1/headshots/config", "/api/v1/headshots/1"]:
        assert api.get(url).status_code == 401
