import pytest

from accounts.services import user_create
from credits import services as credits_services
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(settings):
    settings.CREDITS_SIGNUP_BONUS = 10
    settings.CREDITS_REWARD_DAILY_CAP = 2
    return user_create(email="ads@example.com", password="x-long-password-1")


def test_reward_needs_an_idempotency_key(member):
    response = client_for(member).post("/api/v1/credits/rewards")
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["detail"]


def test_reward_is_granted_once_per_key_and_capped_daily(member):
    client = client_for(member)
    first = client.post("/api/v1/credits/rewards", HTTP_IDEMPOTENCY_KEY="imp-1")
    again = client.post("/api/v1/credits/rewards", HTTP_IDEMPOTENCY_KEY="imp-1")
    second = client.post("/api/v1/credits/rewards", HTTP_IDEMPOTENCY_KEY="imp-2")
    third = client.post("/api/v1/credits/rewards", HTTP_IDEMPOTENCY_KEY="imp-3")
    assert [r.status_code for r in (first, again, second, third)] == [201, 201, 201, 429]
    assert again.json()["replayed"] is True
    assert third.json()["code"] == "reward_cap_reached"
    assert 0 < int(third["Retry-After"]) <= 24 * 3600  # seconds to the next UTC day
    assert client.get("/api/v1/me").json()["total_balance"] == 12


def test_history_lists_own_lines_and_filters_by_type(member):
    client = client_for(member)
    client.post("/api/v1/credits/rewards", HTTP_IDEMPOTENCY_KEY="imp-1")
    lines = client.get("/api/v1/credits/history").json()["results"]
    assert [(line["type"], line["amount"]) for line in lines] == [("reward", 1), ("bonus", 10)]
    bonus = client.get("/api/v1/credits/history?type=bonus").json()["results"]
    assert [line["amount"] for line in bonus] == [10]


def test_history_rejects_an_unknown_type(member):
    response = client_for(member).get("/api/v1/credits/history?type=nonsense")
    assert response.status_code == 400


def test_history_never_shows_another_users_lines(member):
    other = user_create(email="other@example.com", password="x-long-password-1")
    lines = client_for(other).get("/api/v1/credits/history").json()["results"]
    assert len(lines) == 1 and lines[0]["type"] == "bonus"
    ids_member = {
        line["id"] for line in client_for(member).get("/api/v1/credits/history").json()["results"]
    }
    assert not ids_member & {line["id"] for line in lines}


def test_me_shows_what_running_jobs_hold_beside_what_can_be_spent(member):
    team_id = member.memberships.get().team_id
    credits_services.credits_hold(
        team_id=team_id, user_id=member.id, amount=4, key="job", category="headshot"
    )
    me = client_for(member).get("/api/v1/me").json()
    assert [(t["balance"], t["held"]) for t in me["teams"]] == [(6, 4)]
    assert me["total_balance"] == 6
