import pytest
from django.core import mail
from django.utils import timezone

from credits import selectors as credits_selectors
from credits import services as credits_services
from teams.models import Invitation, InvitationStatus, Membership, Role
from tests.conftest import client_for
from tests.factories import InvitationFactory, UserFactory

pytestmark = pytest.mark.django_db

# Every team endpoint, as each kind of caller. Expected status per role:
# anonymous, outsider (admin of another team), plain member, team admin.
ENDPOINTS = [
    ("get", "/api/v1/teams/{team}/members", None, (401, 404, 200, 200)),
    ("patch", "/api/v1/teams/{team}/members/{bob}", {"role": "admin"}, (401, 404, 403, 200)),
    ("delete", "/api/v1/teams/{team}/members/{bob}", None, (401, 404, 403, 204)),
    ("get", "/api/v1/teams/{team}/invitations", None, (401, 404, 403, 200)),
    (
        "post",
        "/api/v1/teams/{team}/invitations",
        {"email": "new@example.com"},
        (401, 404, 403, 201),
    ),
    ("get", "/api/v1/teams/{team}/credits", None, (401, 404, 403, 200)),
    (
        "post",
        "/api/v1/teams/{team}/credits/allocate",
        {"user_id": "{bob}", "amount": 5},
        (401, 404, 403, 201),
    ),
    ("post", "/api/v1/teams/{team}/credits/auto-distribute", None, (401, 404, 403, 201)),
    (
        "post",
        "/api/v1/teams/{team}/credits/reassign",
        {"from_user_id": "{alice}", "to_user_id": "{bob}", "amount": 1},
        (401, 404, 403, 201),
    ),
]
ROLES = ["anonymous", "outsider", "member", "admin"]


def _fill(value, ids):
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {
            k: (int(_fill(v, ids)) if isinstance(v, str) and v.startswith("{") else v)
            for k, v in value.items()
        }
    return value


@pytest.mark.parametrize("role_index,role", list(enumerate(ROLES)))
@pytest.mark.parametrize("method,path,body,expected", ENDPOINTS)
def test_team_endpoint_access(team_setup, api, method, path, body, expected, role_index, role):
    t = team_setup
    credits_services.credits_allocate(
        team_id=t["team"].id, user_id=t["alice"].id, amount=5, key="pre"
    )
    ids = {"team": t["team"].id, "bob": t["bob"].id, "alice": t["alice"].id}
    client = {
        "anonymous": api,
        "outsider": client_for(t["outsider"]),
        "member": client_for(t["alice"]),
        "admin": client_for(t["admin"]),
    }[role]
    before = credits_selectors.balance_pool(team_id=t["team"].id)
    response = getattr(client, method)(_fill(path, ids), _fill(body, ids), format="json")
    assert response.status_code == expected[role_index], response.content
    assert set(response.json()) >= {"detail", "code"} if response.status_code >= 400 else True
    if response.status_code >= 400:
        assert credits_selectors.balance_pool(team_id=t["team"].id) == before


def test_team_list_shows_only_my_teams_with_role(team_setup):
    response = client_for(team_setup["alice"]).get("/api/v1/teams")
    assert response.status_code == 200
    assert [(t["name"], t["role"]) for t in response.json()["results"]] == [("Acme", "member")]


def test_creating_a_team_makes_the_creator_admin(user):
    response = client_for(user).post("/api/v1/teams", {"name": "Film crew"}, format="json")
    assert response.status_code == 201
    assert response.json()["role"] == "admin"
    assert Membership.objects.get(team_id=response.json()["id"], user=user).role == Role.ADMIN


def test_creating_a_team_without_a_name_is_a_clear_400(user):
    response = client_for(user).post("/api/v1/teams", {"name": ""}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "name" in response.json()["detail"]


def test_member_sees_only_own_balance_in_member_list(team_setup):
    t = team_setup
    credits_services.credits_allocate(team_id=t["team"].id, user_id=t["bob"].id, amount=7, key="b")
    rows = client_for(t["alice"]).get(f"/api/v1/teams/{t['team'].id}/members").json()["results"]
    by_email = {r["email"]: r for r in rows}
    assert by_email[t["bob"].email]["balance"] is None
    assert by_email[t["alice"].email]["balance"] == 0


def test_invitation_sends_an_email_with_the_accept_link(
    team_setup, django_capture_on_commit_callbacks
):
    t = team_setup
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(t["admin"]).post(
            f"/api/v1/teams/{t['team'].id}/invitations", {"email": "New@Example.com"}, format="json"
        )
    assert response.status_code == 201
    invitation = Invitation.objects.get()
    assert invitation.email == "new@example.com"
    assert len(mail.outbox) == 1
    assert f"/teams/invitations/{invitation.key}/" in mail.outbox[0].body


def test_a_second_pending_invitation_to_the_same_address_is_refused(team_setup):
    admin = client_for(team_setup["admin"])
    url = f"/api/v1/teams/{team_setup['team'].id}/invitations"
    assert admin.post(url, {"email": "x@example.com"}, format="json").status_code == 201
    response = admin.post(url, {"email": "X@example.com"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "already_invited"


def test_an_expired_invitation_does_not_block_a_new_one(team_setup):
    team = team_setup["team"]
    InvitationFactory(
        team=team, email="x@example.com", expires_at=timezone.now() - timezone.timedelta(days=1)
    )
    url = f"/api/v1/teams/{team.id}/invitations"
    assert (
        client_for(team_setup["admin"])
        .post(url, {"email": "x@example.com"}, format="json")
        .status_code
        == 201
    )


def test_invitation_is_accepted_by_the_invited_address(team_setup):
    invitee = UserFactory(email="new@example.com")
    invitation = InvitationFactory(
        team=team_setup["team"], email="new@example.com", role=Role.ADMIN
    )
    response = client_for(invitee).post(f"/api/v1/invitations/{invitation.key}/accept")
    assert response.status_code == 200
    assert response.json()["role"] == "admin"
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ACCEPTED


def test_invitation_is_refused_for_another_signed_in_address(team_setup):
    invitation = InvitationFactory(team=team_setup["team"], email="new@example.com")
    response = client_for(UserFactory(email="someone@example.com")).post(
        f"/api/v1/invitations/{invitation.key}/accept"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "wrong_account"
    assert not Membership.objects.filter(
        team=team_setup["team"], user__email="someone@example.com"
    ).exists()


def test_an_expired_invitation_link_is_refused(team_setup):
    invitee = UserFactory(email="late@example.com")
    invitation = InvitationFactory(
        team=team_setup["team"],
        email="late@example.com",
        expires_at=timezone.now() - timezone.timedelta(minutes=1),
    )
    response = client_for(invitee).post(f"/api/v1/invitations/{invitation.key}/accept")
    assert response.status_code == 410
    assert response.json()["code"] == "invitation_expired"


def test_an_unknown_invitation_key_is_404(user):
    assert client_for(user).post("/api/v1/invitations/nope/accept").status_code == 404


def test_the_last_admin_cannot_be_demoted(team_setup):
    t = team_setup
    response = client_for(t["admin"]).patch(
        f"/api/v1/teams/{t['team'].id}/members/{t['admin'].id}", {"role": "member"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "last_admin"


def test_removing_a_member_returns_their_credits_to_the_pool(team_setup):
    t = team_setup
    credits_services.credits_allocate(team_id=t["team"].id, user_id=t["bob"].id, amount=12, key="b")
    response = client_for(t["admin"]).delete(f"/api/v1/teams/{t['team'].id}/members/{t['bob'].id}")
    assert response.status_code == 204
    assert credits_selectors.balance_pool(team_id=t["team"].id) == 100
    assert not Membership.objects.filter(team=t["team"], user=t["bob"]).exists()


@pytest.mark.parametrize("amount", [0, -1, 1.5, "2.5", True, 10**7, "ten", None])
def test_allocate_refuses_bad_amounts_and_moves_nothing(team_setup, amount):
    t = team_setup
    response = client_for(t["admin"]).post(
        f"/api/v1/teams/{t['team'].id}/credits/allocate",
        {"user_id": t["bob"].id, "amount": amount},
        format="json",
    )
    assert response.status_code == 400
    assert credits_selectors.balance_pool(team_id=t["team"].id) == 100


def test_allocate_more_than_the_pool_is_402_with_a_clear_message(team_setup):
    t = team_setup
    response = client_for(t["admin"]).post(
        f"/api/v1/teams/{t['team'].id}/credits/allocate",
        {"user_id": t["bob"].id, "amount": 101},
        format="json",
    )
    assert response.status_code == 402
    assert response.json() == {
        "detail": "The team pool has 100 credits; 101 are needed.",
        "code": "insufficient_credits",
    }


def test_allocate_to_someone_outside_the_team_is_404(team_setup):
    t = team_setup
    response = client_for(t["admin"]).post(
        f"/api/v1/teams/{t['team'].id}/credits/allocate",
        {"user_id": t["outsider"].id, "amount": 1},
        format="json",
    )
    assert response.status_code == 404
    assert credits_selectors.balance_pool(team_id=t["team"].id) == 100


def test_allocate_with_the_same_idempotency_key_moves_credits_once(team_setup):
    t = team_setup
    admin = client_for(t["admin"])
    url = f"/api/v1/teams/{t['team'].id}/credits/allocate"
    body = {"user_id": t["bob"].id, "amount": 10}
    first = admin.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    second = admin.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    assert (first.json()["replayed"], second.json()["replayed"]) == (False, True)
    assert credits_selectors.balance_member(team_id=t["team"].id, user_id=t["bob"].id) == 10


@pytest.mark.parametrize(
    "changed", [{"amount": 11}, {"user_id": "alice"}], ids=["other_amount", "other_member"]
)
def test_allocate_reusing_an_idempotency_key_for_a_different_request_is_409(team_setup, changed):
    t = team_setup
    admin = client_for(t["admin"])
    url = f"/api/v1/teams/{t['team'].id}/credits/allocate"
    first = {"user_id": t["bob"].id, "amount": 10}
    admin.post(url, first, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    other = {**first, **{k: t[v].id if k == "user_id" else v for k, v in changed.items()}}

    response = admin.post(url, other, format="json", HTTP_IDEMPOTENCY_KEY="abc")

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert credits_selectors.balance_pool(team_id=t["team"].id) == 90


def test_reassign_reusing_an_idempotency_key_for_a_different_amount_is_409(team_setup):
    t = team_setup
    team_id = t["team"].id
    credits_services.credits_allocate(team_id=team_id, user_id=t["bob"].id, amount=10, key="b")
    admin = client_for(t["admin"])
    url = f"/api/v1/teams/{team_id}/credits/reassign"
    body = {"from_user_id": t["bob"].id, "to_user_id": t["admin"].id, "amount": 4}
    assert admin.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="r").status_code == 201

    response = admin.post(url, {**body, "amount": 5}, format="json", HTTP_IDEMPOTENCY_KEY="r")

    assert response.status_code == 409
    assert credits_selectors.balance_member(team_id=team_id, user_id=t["bob"].id) == 6


def test_team_credit_overview_lists_pool_members_and_low_balance(team_setup, settings):
    settings.CREDITS_LOW_BALANCE_WARNING = 500
    t = team_setup
    data = client_for(t["admin"]).get(f"/api/v1/teams/{t['team'].id}/credits").json()
    assert data["pool"] == 100
    assert data["low_balance"] is True
    assert len(data["members"]) == 3


def test_a_member_with_a_running_job_cannot_be_removed(team_setup):
    t = team_setup
    credits_services.credits_allocate(team_id=t["team"].id, user_id=t["bob"].id, amount=5, key="b")
    credits_services.credits_hold(
        team_id=t["team"].id, user_id=t["bob"].id, amount=3, key="job", category="headshot"
    )
    response = client_for(t["admin"]).delete(f"/api/v1/teams/{t['team'].id}/members/{t['bob'].id}")
    assert response.status_code == 409
    assert response.json()["code"] == "still_running"
    assert Membership.objects.filter(team=t["team"], user=t["bob"]).exists()
    credits_services.credits_release(hold_key="job", key="job:release")
    assert (
        client_for(t["admin"])
        .delete(f"/api/v1/teams/{t['team'].id}/members/{t['bob'].id}")
        .status_code
        == 204
    )
