"""Open invite links (HeadshotPro's "invite by open link: domain restriction, usage cap,
expiry"): one link for many people, within the limits its admin set."""

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.utils import timezone

from common.errors import ApplicationError
from credits import selectors as credits_selectors
from credits import services as credits_services
from teams import services
from teams.models import InviteLink, Membership, Role, TeamRemoval
from tests.conftest import client_for
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    team = TeamFactory(name="Acme")
    team.admin = MembershipFactory(team=team, role=Role.ADMIN).user
    team.member = MembershipFactory(team=team).user
    return team


def _link(team, **limits) -> InviteLink:
    return services.invite_link_create(actor=team.admin, team_id=team.id, **limits)


def _refused(team, link, user) -> ApplicationError:
    with pytest.raises(ApplicationError) as refused:
        services.invite_link_join(key=link.key, user=user)
    assert not Membership.objects.filter(team=team, user=user).exists()
    return refused.value


def _verified(user):
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def test_anyone_with_the_link_joins_as_a_member(team):
    link = _link(team)
    newcomer = UserFactory()
    membership = services.invite_link_join(key=link.key, user=newcomer).membership
    assert (membership.team_id, membership.role) == (team.id, Role.MEMBER)
    link.refresh_from_db()
    assert link.uses == 1


def test_joining_a_team_you_are_in_changes_nothing_and_spends_no_use(team):
    link = _link(team, max_uses=1)
    joined = services.invite_link_join(key=link.key, user=team.admin)
    assert (joined.joined, joined.membership.role) == (False, Role.ADMIN)
    link.refresh_from_db()
    assert link.uses == 0


def test_a_link_stops_after_its_last_use(team):
    link = _link(team, max_uses=1)
    services.invite_link_join(key=link.key, user=UserFactory())
    refusal = _refused(team, link, UserFactory())
    assert (refusal.status, refusal.code) == (409, "invite_link_used_up")


def test_an_expired_link_is_refused(team):
    link = _link(team, days=1)
    InviteLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    refusal = _refused(team, link, UserFactory())
    assert (refusal.status, refusal.code) == (410, "invite_link_expired")


def test_a_link_turned_off_is_refused(team):
    link = _link(team)
    services.invite_link_revoke(actor=team.admin, team_id=team.id, link_id=link.pk)
    refusal = _refused(team, link, UserFactory())
    assert (refusal.status, refusal.code) == (409, "invite_link_revoked")


def test_a_domain_link_refuses_other_domains(team):
    link = _link(team, allowed_domain="@Acme.com ")
    assert link.allowed_domain == "acme.com"
    refusal = _refused(team, link, _verified(UserFactory(email="eve@acme.com.evil.test")))
    assert (refusal.status, refusal.code) == (403, "wrong_domain")


def test_a_domain_link_needs_a_confirmed_address(team):
    link = _link(team, allowed_domain="acme.com")
    ada = UserFactory(email="ada@ACME.com")
    refusal = _refused(team, link, ada)
    assert (refusal.status, refusal.code) == (403, "email_unverified")
    _verified(ada)
    assert services.invite_link_join(key=link.key, user=ada).membership.team_id == team.id


def test_only_an_admin_creates_or_turns_off_links(team):
    with pytest.raises(ApplicationError) as refused:
        services.invite_link_create(actor=team.member, team_id=team.id)
    assert refused.value.status == 403
    link = _link(team)
    with pytest.raises(ApplicationError) as refused:
        services.invite_link_revoke(actor=team.member, team_id=team.id, link_id=link.pk)
    assert refused.value.status == 403


def test_a_personal_team_has_no_invite_links():
    owner = UserFactory()
    personal = TeamFactory(is_personal=True)
    MembershipFactory(team=personal, user=owner, role=Role.ADMIN)
    with pytest.raises(ApplicationError) as refused:
        services.invite_link_create(actor=owner, team_id=personal.id)
    assert refused.value.code == "personal_team"


@pytest.mark.parametrize(
    ("limits", "code"),
    [
        ({"allowed_domain": "not a domain"}, "invalid_domain"),
        ({"allowed_domain": "acme"}, "invalid_domain"),
        ({"allowed_domain": "a@b.com"}, "invalid_domain"),
        ({"allowed_domain": "acme.com\u202e"}, "invalid"),
        ({"max_uses": 0}, "invalid_max_uses"),
        ({"max_uses": 1001}, "invalid_max_uses"),
        ({"days": 0}, "invalid_days"),
        ({"days": 91}, "invalid_days"),
    ],
)
def test_limits_out_of_range_are_refused(team, limits, code):
    with pytest.raises(ApplicationError) as refused:
        _link(team, **limits)
    assert (refused.value.status, refused.value.code) == (400, code)
    assert not InviteLink.objects.exists()


def test_an_unknown_link_is_404(team):
    with pytest.raises(ApplicationError) as refused:
        services.invite_link_join(key="no-such-key", user=UserFactory())
    assert refused.value.status == 404


def _pool(team, amount: int) -> None:
    credits_services.credits_grant(
        team_id=team.id, amount=amount, category="purchase", key=f"pool:{team.id}:{amount}"
    )


def test_a_newcomer_gets_the_links_credits_from_the_pool(team):
    _pool(team, 10)
    link = _link(team, credits_each=4)
    newcomer = UserFactory()
    services.invite_link_join(key=link.key, user=newcomer)
    assert credits_selectors.balance_member(team_id=team.id, user_id=newcomer.id) == 4
    assert credits_selectors.balance_pool(team_id=team.id) == 6
    assert credits_selectors.ledger_audit().clean


def test_joining_again_gives_no_second_helping(team):
    _pool(team, 10)
    link = _link(team, credits_each=4)
    newcomer = UserFactory()
    services.invite_link_join(key=link.key, user=newcomer)
    services.invite_link_join(key=link.key, user=newcomer)
    assert credits_selectors.balance_member(team_id=team.id, user_id=newcomer.id) == 4


def test_an_empty_pool_does_not_stop_anyone_joining(team):
    _pool(team, 3)
    link = _link(team, credits_each=4)
    newcomer = UserFactory()
    assert services.invite_link_join(key=link.key, user=newcomer).membership.team_id == team.id
    assert credits_selectors.balance_member(team_id=team.id, user_id=newcomer.id) == 0
    assert credits_selectors.balance_pool(team_id=team.id) == 3
    link.refresh_from_db()
    assert link.uses == 1


@pytest.mark.parametrize("credits_each", [-1, 101])
def test_credits_each_out_of_range_is_refused(team, credits_each):
    with pytest.raises(ApplicationError) as refused:
        _link(team, credits_each=credits_each)
    assert refused.value.code == "invalid_credits_each"


def test_the_join_page_says_what_a_newcomer_got(team):
    _pool(team, 5)
    link = _link(team, credits_each=5)
    first, second = _browser(UserFactory()), _browser(UserFactory())
    assert b"You get 5 credits" in first.get(f"/teams/join/{link.key}/").content
    first.post(f"/teams/join/{link.key}/")
    second.post(f"/teams/join/{link.key}/")
    assert "You have 5 credits to start" in _flashes(first)
    assert "could not cover your starting credits" in _flashes(second)
    first.post(f"/teams/join/{link.key}/")
    assert "You are already a member of Acme" in _flashes(first)


def test_an_admin_who_steps_down_or_leaves_takes_their_links_along(team):
    second_admin = MembershipFactory(team=team, role=Role.ADMIN).user
    theirs = services.invite_link_create(actor=second_admin, team_id=team.id, credits_each=2)
    ours = _link(team)
    services.membership_set_role(
        actor=team.admin, team_id=team.id, user_id=second_admin.id, role=Role.MEMBER
    )
    theirs.refresh_from_db()
    assert theirs.revoked_at is not None
    services.membership_set_role(
        actor=team.admin, team_id=team.id, user_id=second_admin.id, role=Role.ADMIN
    )
    again = services.invite_link_create(actor=second_admin, team_id=team.id)
    services.membership_remove(actor=team.admin, team_id=team.id, user_id=second_admin.id)
    again.refresh_from_db()
    ours.refresh_from_db()
    assert again.revoked_at is not None
    assert ours.revoked_at is None
    refusal = _refused(team, theirs, UserFactory())
    assert refusal.code == "invite_link_revoked"


def test_rejoining_through_the_same_link_gives_no_second_credits(team):
    _pool(team, 20)
    link = _link(team, credits_each=4)
    newcomer = UserFactory()
    services.invite_link_join(key=link.key, user=newcomer)
    services.membership_remove(actor=team.admin, team_id=team.id, user_id=newcomer.id)
    TeamRemoval.objects.filter(team=team, user=newcomer).delete()  # staff let them back
    again = services.invite_link_join(key=link.key, user=newcomer)
    assert (again.joined, again.credits_given, again.credits_offered) == (True, 0, 4)
    assert credits_selectors.balance_pool(team_id=team.id) == 20


def test_someone_an_admin_removed_cannot_come_back_through_any_link(team):
    second_admin = MembershipFactory(team=team, role=Role.ADMIN).user
    theirs = services.invite_link_create(actor=second_admin, team_id=team.id)
    services.membership_remove(actor=team.admin, team_id=team.id, user_id=team.member.id)
    refusal = _refused(team, theirs, team.member)
    assert (refusal.status, refusal.code) == (403, "removed_from_team")
    assert "invite you by e-mail" in refusal.message
    page = _browser(team.member).get(f"/teams/join/{theirs.key}/")
    assert b"A team admin removed you from Acme" in page.content
    assert b'data-testid="join"' not in page.content
    api = client_for(team.member).post(f"/api/v1/invite-links/{theirs.key}/join")
    assert (api.status_code, api.json()["code"]) == (403, "removed_from_team")
    assert services.invite_link_join(key=theirs.key, user=UserFactory()).joined  # others can


def test_an_email_invitation_brings_a_removed_member_back_and_links_work_again(team):
    link = _link(team)
    services.membership_remove(actor=team.admin, team_id=team.id, user_id=team.member.id)
    invitation = services.invitation_create(
        actor=team.admin, team_id=team.id, email=team.member.email
    )
    assert services.invitation_accept(key=invitation.key, user=team.member).joined
    assert not TeamRemoval.objects.filter(team=team, user=team.member).exists()
    assert services.invite_link_refusal(link=link, user=team.member) is None


def test_an_invitation_sent_before_the_removal_does_not_bring_them_back(team):
    newcomer = UserFactory()
    earlier = services.invitation_create(actor=team.admin, team_id=team.id, email=newcomer.email)
    services.invite_link_join(key=_link(team).key, user=newcomer)  # joined another way
    other_team = TeamFactory()
    MembershipFactory(team=other_team, role=Role.ADMIN, user=team.admin)
    elsewhere = services.invitation_create(
        actor=team.admin, team_id=other_team.id, email=newcomer.email
    )
    services.membership_remove(actor=team.admin, team_id=team.id, user_id=str(newcomer.id))
    with pytest.raises(ApplicationError) as refused:
        services.invitation_accept(key=earlier.key, user=newcomer)
    assert refused.value.code == "invitation_revoked"
    assert TeamRemoval.objects.filter(team=team, user=newcomer).exists()
    assert services.invitation_accept(key=elsewhere.key, user=newcomer).joined  # other teams'


def test_an_admin_who_leaves_on_their_own_can_come_back_through_a_link(team):
    second_admin = MembershipFactory(team=team, role=Role.ADMIN).user
    link = _link(team)
    services.membership_remove(actor=second_admin, team_id=team.id, user_id=second_admin.id)
    assert not TeamRemoval.objects.filter(team=team, user=second_admin).exists()
    assert services.invite_link_join(key=link.key, user=second_admin).joined


def _flashes(browser) -> str:
    return browser.get("/").content.decode()


# --- API -------------------------------------------------------------------------------------


def test_api_an_admin_creates_lists_and_turns_off_links(team):
    admin = client_for(team.admin)
    url = f"/api/v1/teams/{team.id}/invite-links"
    response = admin.post(
        url, {"allowed_domain": "acme.com", "max_uses": 5, "credits_each": 2}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["url"].endswith(f"/teams/join/{InviteLink.objects.get().key}/")
    assert (body["allowed_domain"], body["max_uses"], body["uses"]) == ("acme.com", 5, 0)
    assert body["credits_each"] == 2
    assert [row["id"] for row in admin.get(url).json()["results"]] == [body["id"]]
    assert admin.delete(f"{url}/{body['id']}").status_code == 204
    assert admin.get(url).json()["results"] == []


def test_api_a_member_cannot_see_or_create_links(team):
    member = client_for(team.member)
    url = f"/api/v1/teams/{team.id}/invite-links"
    assert member.get(url).status_code == 403
    assert member.post(url, {}, format="json").status_code == 403


def test_api_join_answers_with_the_team_and_refusals_with_their_code(team):
    link = _link(team, max_uses=1)
    response = client_for(UserFactory()).post(f"/api/v1/invite-links/{link.key}/join")
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["role"]) == (team.id, "member")
    late = client_for(UserFactory()).post(f"/api/v1/invite-links/{link.key}/join")
    assert late.status_code == 409
    assert late.json()["code"] == "invite_link_used_up"


def test_api_bad_limits_are_400(team):
    response = client_for(team.admin).post(
        f"/api/v1/teams/{team.id}/invite-links", {"max_uses": 0, "days": 500}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"max_uses", "days"}


# --- pages -----------------------------------------------------------------------------------


def _browser(user=None) -> Client:
    browser = Client()
    if user is not None:
        browser.force_login(user)
    return browser


def test_the_team_page_creates_and_lists_a_link(team):
    browser = _browser(team.admin)
    response = browser.post(
        f"/teams/{team.id}/invite-links/",
        {"allowed_domain": "acme.com", "max_uses": "", "days": "14"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    link = InviteLink.objects.get()
    assert (link.allowed_domain, link.max_uses) == ("acme.com", None)
    assert f"/teams/join/{link.key}/".encode() in response.content
    assert b"@acme.com" in response.content


def test_the_team_page_shows_a_refused_limit_in_the_form(team):
    response = _browser(team.admin).post(
        f"/teams/{team.id}/invite-links/", {"allowed_domain": "nope", "days": "7"}
    )
    assert b"Enter an e-mail domain like example.com" in response.content
    assert not InviteLink.objects.exists()


def test_the_join_page_asks_a_visitor_to_sign_in(team):
    link = _link(team, allowed_domain="acme.com")
    response = _browser().get(f"/teams/join/{link.key}/")
    assert response.status_code == 200
    assert b"Join Acme" in response.content
    assert f"/accounts/login/?next=/teams/join/{link.key}/".encode() in response.content
    assert b"with your @acme.com address" in response.content


def test_the_join_page_says_why_before_anyone_presses_join(team):
    link = _link(team, allowed_domain="acme.com")
    response = _browser(UserFactory(email="bob@other.test")).get(f"/teams/join/{link.key}/")
    assert b"This link is for people with an @acme.com address" in response.content
    assert b'data-testid="join"' not in response.content


def test_the_join_page_joins_and_switches_to_the_team(team):
    link = _link(team)
    newcomer = UserFactory()
    browser = _browser(newcomer)
    response = browser.post(f"/teams/join/{link.key}/")
    assert response.status_code == 302
    assert Membership.objects.filter(team=team, user=newcomer).exists()
    assert browser.session["team_id"] == team.id


def test_an_unknown_join_link_is_a_404_page():
    response = _browser().get("/teams/join/no-such-key/")
    assert response.status_code == 404
    assert b"Invite link not found" in response.content


def test_the_team_page_lists_who_was_removed_until_an_invitation_brings_them_back(team):
    admin_page = _browser(team.admin)
    response = admin_page.post(f"/teams/{team.id}/members/{team.member.id}/remove/", follow=True)
    assert b"Invite links will not let them back in" in response.content
    page = admin_page.get(f"/teams/{team.id}/").content.decode()
    assert 'data-testid="removals"' in page and team.member.email in page
    member_view = _browser(MembershipFactory(team=team).user).get(f"/teams/{team.id}/")
    assert b'data-testid="removals"' not in member_view.content  # admins only
    invitation = services.invitation_create(
        actor=team.admin, team_id=team.id, email=team.member.email
    )
    services.invitation_accept(key=invitation.key, user=team.member)
    assert b'data-testid="removals"' not in admin_page.get(f"/teams/{team.id}/").content


def test_api_an_admin_lists_who_was_removed(team):
    services.membership_remove(actor=team.admin, team_id=team.id, user_id=team.member.id)
    listed = client_for(team.admin).get(f"/api/v1/teams/{team.id}/removals").json()
    assert listed["count"] == 1
    (row,) = listed["results"]
    assert (row["user_id"], row["email"], row["removed_by_id"]) == (
        team.member.id,
        team.member.email,
        team.admin.id,
    )
    member = client_for(MembershipFactory(team=team).user)
    assert member.get(f"/api/v1/teams/{team.id}/removals").status_code == 403
