"""Manual credit adjustments: a reason, once per key, in the ledger and the audit log."""

import pytest
from django.core.management import call_command
from django.test import Client

from credits import selectors as credits_selectors
from credits.models import Kind, Transaction
from staff.models import AuditAction, AuditLog
from tests.conftest import client_for
from tests.factories import MembershipFactory, TeamFactory
from tests.staff.conftest import balance

pytestmark = pytest.mark.django_db

URL = "/api/v1/admin/credits/adjust"


def _adjust(staff_user, member, *, key=None, **body):
    body = {"team_id": member.team.id, "user_id": member.id, "reason": "Goodwill", **body}
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client_for(staff_user).post(URL, body, format="json", **headers)


def _ledger_clean():
    assert credits_selectors.ledger_audit().clean
    call_command("credits_audit")


def test_an_adjustment_moves_credits_with_actor_and_reason(member, staff_user):
    response = _adjust(staff_user, member, amount=15, reason="Compensation for the outage")

    assert response.status_code == 201, response.content
    assert balance(member) == 115
    [tx] = Transaction.objects.filter(kind=Kind.ADJUST)
    assert tx.actor_id == staff_user.id and tx.memo == "Compensation for the outage"
    [log] = AuditLog.objects.all()
    assert (log.action, log.actor, log.amount, log.user_id, log.team_id) == (
        AuditAction.ADJUST,
        staff_user,
        15,
        member.id,
        member.team.id,
    )
    assert log.reason == "Compensation for the outage"
    assert log.ledger_keys == [tx.idempotency_key]
    assert response.json()["id"] == log.id
    _ledger_clean()

    down = _adjust(staff_user, member, amount=-40, reason="Duplicate grant")
    assert down.status_code == 201
    assert balance(member) == 75
    assert AuditLog.objects.count() == 2
    _ledger_clean()


def test_the_same_key_adjusts_once(member, staff_user):
    first = _adjust(staff_user, member, amount=5, key="ticket-812")
    again = _adjust(staff_user, member, amount=5, key="ticket-812")

    assert first.status_code == 201
    assert again.status_code == 409
    assert again.json()["code"] == "already_adjusted"
    assert balance(member) == 105
    assert AuditLog.objects.count() == 1
    _ledger_clean()


def test_taking_more_than_the_balance_is_refused_and_writes_nothing(member, staff_user):
    response = _adjust(staff_user, member, amount=-101)
    assert response.status_code == 402
    assert balance(member) == 100
    assert not Transaction.objects.filter(kind=Kind.ADJUST).exists()
    assert not AuditLog.objects.exists()
    _ledger_clean()


@pytest.mark.parametrize(
    "body",
    [
        {"amount": 0},
        {"amount": 2.5},
        {"amount": True},
        {"amount": "ten"},
        {"amount": 5, "reason": ""},
        {"amount": 5, "reason": " "},
        {"amount": 2_000_000},
    ],
)
def test_bad_adjustments_are_400(member, staff_user, body):
    response = _adjust(staff_user, member, **body)
    assert response.status_code == 400
    assert balance(member) == 100
    assert not AuditLog.objects.exists()


def test_ids_beyond_a_bigint_are_400(member, staff_user):
    assert _adjust(staff_user, member, amount=5, team_id=2**63).status_code == 400
    assert _adjust(staff_user, member, amount=5, user_id=2**63).status_code == 400
    assert balance(member) == 100


def test_a_user_outside_the_team_is_404(member, staff_user):
    stranger = MembershipFactory(team=TeamFactory()).user
    response = _adjust(staff_user, member, amount=5, user_id=stranger.id)
    assert response.status_code == 404
    assert not AuditLog.objects.exists()


def test_a_team_pool_can_be_adjusted(member, staff_user):
    response = client_for(staff_user).post(
        URL, {"team_id": member.team.id, "amount": 30, "reason": "Pilot"}, format="json"
    )
    assert response.status_code == 201
    assert credits_selectors.balance_pool(team_id=member.team.id) == 30
    assert AuditLog.objects.get().target_type == "team"
    _ledger_clean()


def test_the_member_sees_the_adjustment_in_their_history(member, staff_user):
    _adjust(staff_user, member, amount=7, reason="Sorry about that")
    lines = client_for(member).get("/api/v1/credits/history?type=adjustment").json()["results"]
    assert [(line["amount"], line["memo"]) for line in lines] == [(7, "Sorry about that")]


# --- admin ------------------------------------------------------------------------------------


def test_the_membership_page_adjusts_once_per_form(member, staff_user):
    membership = member.memberships.get()
    browser = Client()
    browser.force_login(staff_user)
    change = browser.get(f"/admin/teams/membership/{membership.pk}/change/").content.decode()
    url = f"/admin/teams/membership/{membership.pk}/adjust/"
    assert url in change

    page = browser.get(url)
    key = page.context["form"].initial["key"]
    no_reason = browser.post(url, {"amount": "5", "reason": "", "key": key})
    assert no_reason.status_code == 200
    assert balance(member) == 100

    done = browser.post(url, {"amount": "5", "reason": "Support ticket 9", "key": key})
    assert done.status_code == 302
    assert balance(member) == 105
    resubmitted = browser.post(url, {"amount": "5", "reason": "Support ticket 9", "key": key})
    assert resubmitted.status_code == 200
    assert "already made" in resubmitted.content.decode()
    assert balance(member) == 105
    _ledger_clean()


def test_the_admin_action_adjusts_each_selected_member(member, staff_user):
    other = MembershipFactory(team=member.team)
    mine = member.memberships.get()
    browser = Client()
    browser.force_login(staff_user)
    url = "/admin/teams/membership/"
    selection = {"action": "adjust_credits", "_selected_action": [mine.pk, other.pk]}

    confirm = browser.post(url, selection)
    assert confirm.status_code == 200
    key = confirm.context["form"].initial["key"]
    browser.post(url, {**selection, "apply": "1", "amount": "3", "reason": "Welcome", "key": key})

    assert balance(member) == 103
    assert credits_selectors.balance_member(team_id=member.team.id, user_id=other.user_id) == 3
    assert AuditLog.objects.filter(action=AuditAction.ADJUST).count() == 2
    _ledger_clean()


def test_the_audit_log_is_visible_and_read_only_in_admin(member, staff_user):
    _adjust(staff_user, member, amount=5, reason="Visible reason")
    log = AuditLog.objects.get()
    browser = Client()
    browser.force_login(staff_user)
    listing = browser.get("/admin/staff/auditlog/")
    assert listing.status_code == 200
    assert "Visible reason" in listing.content.decode()
    assert browser.get(f"/admin/staff/auditlog/{log.pk}/change/").status_code == 200
    assert browser.get("/admin/staff/auditlog/add/").status_code == 403
    assert (
        browser.post(f"/admin/staff/auditlog/{log.pk}/change/", {"reason": "x"}).status_code == 403
    )
    assert (
        browser.post(f"/admin/staff/auditlog/{log.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    log.refresh_from_db()
    assert log.reason == "Visible reason"
