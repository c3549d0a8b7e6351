"""Input a client should never send gets a clear 4xx, never a 500 (found by probing the API
by hand): absurd JSON, NUL bytes, odd digits, numbers where text belongs, direction-override
characters, blank idempotency keys."""

import pytest

from characters.models import Project
from teams.models import Team
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

PROJECTS = "/api/v1/characters/projects"


def _post_raw(user, url: str, body: str):
    return client_for(user).generic("POST", url, body, content_type="application/json")


def test_json_nested_too_deeply_is_400(team_setup):
    response = _post_raw(team_setup["admin"], "/api/v1/teams", "[" * 100_000)
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The JSON body is nested too deeply.",
        "code": "parse_error",
    }


def test_a_number_with_thousands_of_digits_is_400_without_python_internals(team_setup):
    response = _post_raw(team_setup["admin"], "/api/v1/teams", '{"name": ' + "9" * 5000 + "}")
    assert response.status_code == 400
    assert "set_int_max_str_digits" not in response.json()["detail"]
    assert response.json()["detail"] == "A number in the JSON body has too many digits."


def test_a_nul_in_an_api_path_is_400(team_setup):
    response = client_for(team_setup["alice"]).post("/api/v1/invitations/%00/accept")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_a_nul_in_a_page_path_is_a_400_page(team_setup):
    client = client_for(team_setup["alice"])
    client.force_login(team_setup["alice"])
    response = client.get("/teams/invitations/ab%00cd/")
    assert response.status_code == 400
    assert b"null character" in response.content


def test_a_nul_in_a_query_string_is_400(team_setup):
    response = client_for(team_setup["alice"]).get(f"{PROJECTS}?team=1%00")
    assert response.status_code == 400


@pytest.mark.parametrize("team", ["\u00b2", "abc", "-1", "0", "9" * 30])
def test_a_malformed_team_filter_on_projects_is_404_not_the_whole_list(team_setup, team):
    client = client_for(team_setup["alice"])
    client.post(PROJECTS, {"team": team_setup["team"].id, "name": "Lighthouse"}, format="json")
    response = client.get(PROJECTS, {"team": team})
    assert response.status_code == 404


def test_the_team_filter_on_projects_still_filters(team_setup):
    client = client_for(team_setup["alice"])
    client.post(PROJECTS, {"team": team_setup["team"].id, "name": "Lighthouse"}, format="json")
    mine = client.get(PROJECTS, {"team": team_setup["team"].id}).json()
    elsewhere = client.get(PROJECTS, {"team": team_setup["other_team"].id}).json()
    assert [p["name"] for p in mine["results"]] == ["Lighthouse"]
    assert elsewhere["count"] == 0


@pytest.mark.parametrize("name", [1.5, 7, True, ["a"]])
def test_a_name_that_is_not_text_is_400(team_setup, name):
    response = client_for(team_setup["alice"]).post(
        PROJECTS, {"team": team_setup["team"].id, "name": name}, format="json"
    )
    assert response.status_code == 400
    assert not Project.objects.exists()


@pytest.mark.parametrize("name", ["evil\u202etxt.exe", "tab\there", "bell\x07"])
def test_a_team_name_with_control_or_direction_characters_is_400(team_setup, name):
    response = client_for(team_setup["alice"]).post("/api/v1/teams", {"name": name}, format="json")
    assert response.status_code == 400
    assert "control or text-direction" in response.json()["detail"]
    assert not Team.objects.filter(name=name).exists()


def test_a_description_keeps_its_line_breaks_but_refuses_overrides(team_setup):
    client = client_for(team_setup["alice"])
    body = {"team": team_setup["team"].id, "name": "Lighthouse"}
    kept = client.post(PROJECTS, {**body, "description": "Act one.\nAct two."}, format="json")
    refused = client.post(PROJECTS, {**body, "description": "a\u2066b"}, format="json")
    assert kept.status_code == 201
    assert kept.json()["description"] == "Act one.\nAct two."
    assert refused.status_code == 400


def test_a_description_over_2000_characters_is_400(team_setup):
    response = client_for(team_setup["alice"]).post(
        PROJECTS,
        {"team": team_setup["team"].id, "name": "Lighthouse", "description": "x" * 2001},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "description_too_long"


def test_a_blank_idempotency_key_is_400_not_a_new_claim(team_setup):
    client = client_for(team_setup["alice"])
    response = client.post("/api/v1/credits/rewards", HTTP_IDEMPOTENCY_KEY="   ")
    assert response.status_code == 400
    assert response.json()["detail"] == "Idempotency-Key is empty."


@pytest.mark.parametrize(
    "page,reason",
    [("abc", "not an integer"), ("0", "less than 1"), ("99", "contains no results")],
)
def test_a_bad_page_number_says_why(team_setup, page, reason):
    response = client_for(team_setup["alice"]).get(PROJECTS, {"page": page})
    assert response.status_code == 404
    assert reason in response.json()["detail"]


@pytest.mark.parametrize(
    "url",
    ["/api/v1/headshots?status=bogus", "/api/v1/characters/{character}/versions?status=bogus"],
)
def test_a_bad_status_filter_is_refused_the_same_way_everywhere(team_setup, url):
    client = client_for(team_setup["alice"])
    project = client.post(
        PROJECTS, {"team": team_setup["team"].id, "name": "Lighthouse"}, format="json"
    ).json()
    character = client.post(
        f"/api/v1/characters/projects/{project['id']}/characters", {"name": "Ann"}, format="json"
    ).json()
    response = client.get(url.format(character=character["id"]))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["detail"].startswith("status: Status must be one of: ")


# --- web forms (found by sending hostile values to every page form field) ---------------


def _browser(user):
    from django.test import Client

    browser = Client()
    browser.force_login(user)
    return browser


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/billing/teams/{team}/checkout/", "package"),
        ("/headshots/team/{team}/styles/", "styles"),
        ("/teams/switch/", "next"),
    ],
)
def test_a_nul_in_a_form_field_is_a_400_page(team_setup, url, field):
    response = _browser(team_setup["admin"]).post(
        url.format(team=team_setup["team"].id), {field: "a\x00b"}
    )
    assert response.status_code == 400
    assert b"The form contains a null character." in response.content


def test_a_nul_in_a_multipart_api_field_is_400_json(team_setup):
    response = client_for(team_setup["alice"]).post(
        "/api/v1/headshots", {"style": "corp\x00orate"}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "The form contains a null character.", "code": "invalid"}


@pytest.mark.parametrize(
    "target", ["abc", "9999", "-7", "home", "//evil.example/", "https://evil.example/"]
)
def test_switching_team_with_a_next_that_is_not_a_local_path_goes_home(team_setup, target):
    response = _browser(team_setup["admin"]).post(
        "/teams/switch/", {"team_id": team_setup["team"].id, "next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_switching_team_returns_to_the_page_it_came_from(team_setup):
    response = _browser(team_setup["admin"]).post(
        "/teams/switch/", {"team_id": team_setup["team"].id, "next": "/headshots/?page=2"}
    )
    assert response["Location"] == "/headshots/?page=2"


@pytest.mark.parametrize(
    ("body", "sent"), [("[1, 2]", "array"), ('"x"', "string"), ("5", "number")]
)
def test_a_body_that_is_not_a_json_object_is_named_in_json_terms(team_setup, body, sent):
    response = _post_raw(team_setup["admin"], "/api/v1/teams", body)
    assert response.status_code == 400, sent
    assert response.json()["detail"] == "Expected a JSON object."


def test_a_list_field_given_an_object_is_named_in_json_terms(team_setup):
    response = client_for(team_setup["alice"]).post(
        "/api/v1/headshots/bulk", {"ids": {"a": 1}, "action": "delete"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["fields"]["ids"] == ["Expected a JSON array."]
