"""Ids too large for a bigint column are a clean 4xx, never a database error (found by fuzzing)."""

import pytest

from tests.conftest import client_for

pytestmark = pytest.mark.django_db
HUGE = 2**70


@pytest.mark.parametrize(
    "method,url,body",
    [
        ("post", f"/api/v1/teams/{HUGE}/credits/allocate", {"user_id": 1, "amount": 1}),
        ("get", f"/api/v1/teams/{HUGE}/members", None),
        ("patch", f"/api/v1/teams/{HUGE}/members/{HUGE}", {"role": "admin"}),
        ("get", f"/api/v1/headshots/{HUGE}", None),
        ("post", f"/api/v1/headshots/images/{HUGE}/favorite", None),
    ],
)
def test_huge_ids_in_the_url_are_404(team_setup, method, url, body):
    response = getattr(client_for(team_setup["admin"]), method)(url, body, format="json")
    assert response.status_code == 404


@pytest.mark.parametrize(
    "url,body",
    [
        ("/api/v1/headshots/bulk", {"ids": [HUGE], "action": "favorite"}),
        ("/api/v1/teams/{team}/credits/allocate", {"user_id": HUGE, "amount": 1}),
        (
            "/api/v1/teams/{team}/credits/reassign",
            {"from_user_id": HUGE, "to_user_id": 1, "amount": 1},
        ),
    ],
)
def test_huge_ids_in_the_body_are_400(team_setup, url, body):
    response = client_for(team_setup["admin"]).post(
        url.format(team=team_setup["team"].id), body, format="json"
    )
    assert response.status_code == 400
