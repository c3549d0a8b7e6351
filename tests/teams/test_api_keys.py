import pytest
from rest_framework.test import APIClient

from teams import services
from teams.models import Membership, Role, TeamApiKey
from tests.conftest import client_for
from tests.factories import MembershipFactory, finished_generation

pytestmark = pytest.mark.django_db


def key_client(plaintext: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plaintext}")
    return client


def make_key(t, *, actor=None, team=None) -> tuple[TeamApiKey, str]:
    return services.team_api_key_create(
        actor=actor or t["admin"], team_id=(team or t["team"]).id, name="CI"
    )


def test_admin_creates_a_key_and_sees_it_once(team_setup):
    t = team_setup
    admin = client_for(t["admin"])
    assert TeamApiKey.objects.count() == 0

    res = admin.post(f"/api/v1/teams/{t['team'].id}/api-keys", {"name": "CI"}, format="json")

    assert res.status_code == 201, res.content
    plaintext = res.json()["key"]
    assert plaintext.startswith("ps_")
    row = TeamApiKey.objects.get()
    assert res.json()["prefix"] == row.prefix and len(row.prefix) == 8
    assert plaintext.startswith(f"ps_{row.prefix}_")
    assert row.key_hash != plaintext and len(row.key_hash) == 64
    # No column holds the plaintext or its secret part.
    secret = plaintext.split("_", 2)[2]
    for value in TeamApiKey.objects.values_list().get():
        assert secret not in str(value)

    listed = admin.get(f"/api/v1/teams/{t['team'].id}/api-keys")
    assert listed.status_code == 200
    [item] = listed.json()["results"]
    assert item["prefix"] == row.prefix
    assert "key" not in item and secret not in listed.content.decode()


@pytest.mark.parametrize(
    "who,expected", [("anonymous", 401), ("outsider", 404), ("alice", 403), ("admin", 201)]
)
def test_who_may_create_a_key(team_setup, api, who, expected):
    t = team_setup
    client = api if who == "anonymous" else client_for(t[who])

    res = client.post(f"/api/v1/teams/{t['team'].id}/api-keys", {"name": "CI"}, format="json")

    assert res.status_code == expected, res.content
    assert TeamApiKey.objects.count() == (1 if expected == 201 else 0)


@pytest.mark.parametrize("who,expected", [("anonymous", 401), ("outsider", 404), ("alice", 403)])
def test_who_may_list_and_revoke_keys(team_setup, api, who, expected):
    t = team_setup
    key, _ = make_key(t)
    client = api if who == "anonymous" else client_for(t[who])

    assert client.get(f"/api/v1/teams/{t['team'].id}/api-keys").status_code == expected
    res = client.delete(f"/api/v1/teams/{t['team'].id}/api-keys/{key.id}")

    assert res.status_code == expected
    key.refresh_from_db()
    assert key.revoked_at is None


def test_the_key_authenticates_within_its_team(team_setup):
    t = team_setup
    key, plaintext = make_key(t)
    assert key.last_used_at is None

    res = key_client(plaintext).get(f"/api/v1/teams/{t['team'].id}/credits")

    assert res.status_code == 200, res.content
    assert res.json()["pool"] == 100
    key.refresh_from_db()
    assert key.last_used_at is not None
    assert key_client(plaintext).get("/api/v1/me").status_code == 200


def test_last_used_is_written_at_most_once_a_minute(team_setup):
    t = team_setup
    key, plaintext = make_key(t)
    client = key_client(plaintext)
    client.get(f"/api/v1/teams/{t['team'].id}/credits")
    key.refresh_from_db()
    first = key.last_used_at

    client.get(f"/api/v1/teams/{t['team'].id}/credits")

    key.refresh_from_db()
    assert key.last_used_at == first


def test_the_key_is_refused_for_another_team_its_creator_also_administers(team_setup):
    t = team_setup
    MembershipFactory(team=t["other_team"], user=t["admin"], role=Role.ADMIN)
    _, plaintext = make_key(t)
    other = t["other_team"].id
    client = key_client(plaintext)

    # The creator's session reaches the other team; the key does not.
    assert client_for(t["admin"]).get(f"/api/v1/teams/{other}/credits").status_code == 200
    res = client.get(f"/api/v1/teams/{other}/credits")
    assert res.status_code == 403
    assert res.json()["code"] == "api_key_scope"
    assert client.get("/api/v1/headshots", {"team": other}).status_code == 403
    res = client.post(f"/api/v1/teams/{other}/credits/auto-distribute")
    assert res.status_code == 403


def test_the_key_cannot_manage_keys(team_setup):
    t = team_setup
    key, plaintext = make_key(t)
    client = key_client(plaintext)

    assert client.get(f"/api/v1/teams/{t['team'].id}/api-keys").status_code == 403
    res = client.post(f"/api/v1/teams/{t['team'].id}/api-keys", {"name": "x"}, format="json")
    assert res.status_code == 403
    assert client.delete(f"/api/v1/teams/{t['team'].id}/api-keys/{key.id}").status_code == 403
    assert TeamApiKey.objects.count() == 1
    key.refresh_from_db()
    assert key.revoked_at is None


def test_the_key_needs_a_team_context(team_setup):
    _, plaintext = make_key(team_setup)

    res = key_client(plaintext).post("/api/v1/headshots/estimate", {"style": "x"}, format="json")

    assert res.status_code == 403
    assert res.json()["code"] == "api_key_scope"


def test_a_revoked_key_gets_401(team_setup):
    t = team_setup
    key, plaintext = make_key(t)
    url = f"/api/v1/teams/{t['team'].id}/credits"
    assert key_client(plaintext).get(url).status_code == 200

    res = client_for(t["admin"]).delete(f"/api/v1/teams/{t['team'].id}/api-keys/{key.id}")

    assert res.status_code == 204
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert key_client(plaintext).get(url).status_code == 401


def test_a_key_whose_creator_left_the_team_gets_401(team_setup):
    t = team_setup
    _, plaintext = make_key(t)
    url = f"/api/v1/teams/{t['team'].id}/credits"
    assert key_client(plaintext).get(url).status_code == 200

    Membership.objects.filter(team=t["team"], user=t["admin"]).delete()

    assert key_client(plaintext).get(url).status_code == 401


def test_a_wrong_key_gets_401(team_setup):
    t = team_setup
    _, plaintext = make_key(t)
    url = f"/api/v1/teams/{t['team'].id}/credits"

    assert (
        key_client(plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")).get(url).status_code
        == 401
    )
    assert key_client("ps_nothing_here").get(url).status_code == 401


def test_staff_endpoints_refuse_the_key_even_for_a_staff_creator(team_setup):
    t = team_setup
    t["admin"].is_staff = True
    t["admin"].save(update_fields=["is_staff"])
    _, plaintext = make_key(t)
    assert client_for(t["admin"]).get("/api/v1/admin/metrics").status_code == 200

    res = key_client(plaintext).get("/api/v1/admin/metrics")

    assert res.status_code == 403
    assert res.json()["code"] == "api_key_scope"


@pytest.mark.parametrize(
    "method,url",
    [
        ("delete", "/api/v1/headshots/1?team={team}"),
        ("post", "/api/v1/headshots/1/favorite?team={team}"),
        ("get", "/api/v1/characters/projects?team={team}"),
        ("get", "/api/v1/credits/history?team={team}"),
    ],
)
def test_a_key_cannot_reach_objects_found_through_its_creator(api, team_setup, method, url):
    """Those lookups go by user, so they would find the creator's objects in other teams."""
    from teams.services import team_api_key_create

    t = team_setup
    _, plaintext = team_api_key_create(actor=t["admin"], team_id=t["team"].id, name="ci")
    response = getattr(api, method)(
        url.format(team=t["team"].id), HTTP_AUTHORIZATION=f"Api-Key {plaintext}"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "api_key_scope"


def test_a_key_reads_its_creators_headshots_in_its_team_only(team_setup, media):
    t = team_setup
    MembershipFactory(team=t["other_team"], user=t["admin"], role=Role.ADMIN)
    here = finished_generation(t["admin"], team=t["team"])
    elsewhere = finished_generation(t["admin"], team=t["other_team"])
    finished_generation(t["alice"], team=t["team"])  # a teammate's: not the creator's
    client = key_client(make_key(t)[1])

    listed = client.get("/api/v1/headshots")

    assert listed.status_code == 200, listed.content
    assert [row["id"] for row in listed.json()["results"]] == [here.id]
    assert client.get(f"/api/v1/headshots/{here.id}").status_code == 200
    assert client.get(f"/api/v1/headshots/{elsewhere.id}").status_code == 404
    image_here, image_elsewhere = here.images.get(), elsewhere.images.get()
    download = client.get(f"/api/v1/headshots/images/{image_here.id}/download")
    assert (download.status_code, download["Content-Type"]) == (200, "image/jpeg")
    assert client.get(f"/api/v1/headshots/images/{image_elsewhere.id}/download").status_code == 404
    assert client.get(f"/api/v1/headshots/{elsewhere.id}/export").status_code == 404


def test_a_key_naming_another_team_on_a_read_is_refused(team_setup):
    t = team_setup
    MembershipFactory(team=t["other_team"], user=t["admin"], role=Role.ADMIN)
    client = key_client(make_key(t)[1])

    res = client.get("/api/v1/headshots", {"team": t["other_team"].id})

    assert res.status_code == 403
    assert res.json()["code"] == "api_key_scope"
