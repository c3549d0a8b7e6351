"""Low-credit e-mails: a team that bought credits and runs low has its admins told, once
each time it runs low (HeadshotPro's "low-credit e-mails")."""

import smtplib
import uuid

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing import services
from billing.models import LowCreditNotice, Payment
from credits import services as credits_services
from teams.models import Role
from tests.billing.fixtures import seed_packages
from tests.factories import MembershipFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def threshold(settings):
    settings.CREDITS_LOW_BALANCE_WARNING = 10
    settings.SITE_URL = "https://studio.example"


def _buyer(*, pool: int, name: str = "Acme"):
    """A team with two admins and a member that once paid for credits; `pool` credits left."""
    team = TeamFactory(name=name)
    admins = [MembershipFactory(team=team, role=Role.ADMIN).user for _ in range(2)]
    MembershipFactory(team=team)
    _pay(team)
    if pool:
        _grant(team, pool)
    return team, admins


def _pay(team) -> None:
    Payment.objects.create(
        team=team,
        package=seed_packages()["starter"],
        credits=50,
        amount_cents=2900,
        stripe_session_id=f"cs_test_{uuid.uuid4().hex}",
        status="paid",
        paid_at=timezone.now(),
    )


def _grant(team, amount: int) -> None:
    credits_services.credits_grant(
        team_id=team.id, amount=amount, category="purchase", key=f"grant:{uuid.uuid4().hex}"
    )


def _spend(team, amount: int) -> None:
    staff = MembershipFactory(team=team).user
    credits_services.credits_adjust(
        team_id=team.id, amount=-amount, key=uuid.uuid4().hex, actor_id=staff.id, reason="test"
    )


def test_a_team_that_runs_low_has_its_admins_told_once(threshold):
    team, admins = _buyer(pool=7)
    assert services.low_credit_notices_send() == [team.id]
    assert services.low_credit_notices_send() == []
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == sorted(a.email for a in admins)
    assert message.subject == "Acme is running low on credits: 7 left"
    assert f"https://studio.example/billing/teams/{team.id}/" in message.body


def test_allocated_credits_count_towards_what_is_left(threshold):
    team, _ = _buyer(pool=30)
    member = MembershipFactory(team=team).user
    credits_services.credits_allocate(
        team_id=team.id, user_id=member.id, amount=25, key="a1", actor_id=member.id
    )
    assert services.low_credit_notices_send() == []
    assert mail.outbox == []


def test_a_team_that_bought_its_way_back_is_told_again_next_time(threshold):
    team, _ = _buyer(pool=5)
    services.low_credit_notices_send()
    _pay(team)
    _grant(team, 20)
    assert services.low_credit_notices_send() == []
    assert LowCreditNotice.objects.get().cleared_at is not None
    _spend(team, 22)
    assert services.low_credit_notices_send() == [team.id]
    assert [m.subject for m in mail.outbox] == [
        "Acme is running low on credits: 5 left",
        "Acme is running low on credits: 3 left",
    ]


def test_credits_back_from_a_failed_job_do_not_earn_a_second_email(threshold):
    team, _ = _buyer(pool=12)
    member = MembershipFactory(team=team).user
    credits_services.credits_allocate(team_id=team.id, user_id=member.id, amount=12, key="a")
    credits_services.credits_hold(
        team_id=team.id, user_id=member.id, amount=5, key="job:1", category="headshot"
    )
    assert services.low_credit_notices_send() == [team.id]  # 7 left while the job runs
    credits_services.credits_release(hold_key="job:1", key="job:1:release")
    assert services.low_credit_notices_send() == []  # 12 again: released, not bought
    credits_services.credits_hold(
        team_id=team.id, user_id=member.id, amount=5, key="job:2", category="headshot"
    )
    assert services.low_credit_notices_send() == []
    assert len(mail.outbox) == 1


def test_a_team_that_never_bought_credits_is_not_told(threshold):
    team = TeamFactory()
    MembershipFactory(team=team, role=Role.ADMIN)
    _grant(team, 3)
    assert services.low_credit_notices_send() == []
    assert mail.outbox == []


def test_a_team_that_spent_everything_is_told_it_has_none_left(threshold):
    team, _ = _buyer(pool=0)
    assert services.low_credit_notices_send() == [team.id]
    assert mail.outbox[0].subject == "Acme is running low on credits: 0 left"
    assert "has 0 credits left" in mail.outbox[0].body


def test_a_mail_server_that_is_down_leaves_no_notice_so_the_next_run_retries(
    threshold, monkeypatch
):
    team, _ = _buyer(pool=4)

    def refuse(**kwargs):
        raise smtplib.SMTPServerDisconnected("connection lost")

    monkeypatch.setattr(services, "send_mail", refuse)
    assert services.low_credit_notices_send() == []
    assert not LowCreditNotice.objects.exists()
    monkeypatch.undo()
    assert services.low_credit_notices_send() == [team.id]
    assert len(mail.outbox) == 1


def test_a_notice_already_open_stops_a_second_email(threshold):
    team, _ = _buyer(pool=4)
    LowCreditNotice.objects.create(team=team, credits_left=4)  # another run got there first
    assert services._low_credit_notice_send(team_id=team.id, credits_left=4) is False
    assert mail.outbox == []


@pytest.mark.parametrize("teams", [1, 20])
def test_a_run_with_nobody_to_tell_takes_a_fixed_number_of_queries(threshold, teams):
    for index in range(teams):
        _buyer(pool=50, name=f"Team {index}")
    with CaptureQueriesContext(connection) as queries:
        assert services.low_credit_notices_send() == []
    # buyers, their totals, close recovered notices, open notices
    assert len(queries) == 4, [q["sql"] for q in queries]
