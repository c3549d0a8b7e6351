"""Removing a member while credits move for them (real threads on PostgreSQL): nothing
lands in an allocation nobody can use any more."""

import threading
import time

import pytest
from django.db import connection, transaction

from common.errors import ApplicationError
from credits import selectors as credits_selectors
from credits import services as credits_services
from teams import services
from teams.models import Membership, Role
from tests.conftest import needs_postgres
from tests.factories import MembershipFactory, TeamFactory, UserFactory
from tests.threads import race

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def team():
    needs_postgres()
    team = TeamFactory()
    admin = MembershipFactory(team=team, role=Role.ADMIN).user
    member = MembershipFactory(team=team).user
    credits_services.credits_grant(team_id=team.id, amount=20, category="purchase", key="g")
    credits_services.credits_allocate(team_id=team.id, user_id=member.id, amount=20, key="a")
    return team, admin, member


def _in_thread(work, started: threading.Event):
    """Run `work` on its own connection; its result or error in a one-item list."""
    out: list = []

    def run():
        try:
            started.set()
            out.append(work())
        except Exception as error:
            out.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def _while_open(open_work, then):
    """`open_work` runs in a transaction left open while `then` runs on another thread;
    what `then` returned (or raised)."""
    started = threading.Event()
    with transaction.atomic():
        open_work()
        other, out = _in_thread(then, started)
        started.wait()
        time.sleep(0.3)  # the other thread reaches a row lock and waits there
    other.join(timeout=10)
    return out[0]


def _remove(team, admin, member):
    return lambda: services.membership_remove(actor=admin, team_id=team.id, user_id=member.id)


def test_a_removal_waits_for_a_hold_being_placed_and_then_refuses(team):
    """The removal read the member's holds without a lock: a submit's uncommitted hold
    was missed, the rest went back to the pool and the hold later released into an
    allocation of someone no longer in the team."""
    team, admin, member = team
    result = _while_open(
        lambda: credits_services.credits_hold(
            team_id=team.id, user_id=member.id, amount=9, key="job", category="headshot"
        ),
        then=_remove(team, admin, member),
    )
    assert isinstance(result, ApplicationError) and result.code == "still_running"
    assert Membership.objects.filter(team=team, user=member).exists()
    assert credits_selectors.balance_pool(team_id=team.id) == 0


def test_credits_allocated_during_a_removal_are_refused_not_paid_to_the_leaver(team):
    """The allocation checked membership without a lock: it passed while the removal was
    under way, then paid the person who had just left."""
    team, admin, member = team
    credits_services.credits_grant(team_id=team.id, amount=5, category="purchase", key="g2")
    result = _while_open(
        _remove(team, admin, member),
        then=lambda: services.team_credits_allocate(
            actor=admin, team_id=team.id, user_id=member.id, amount=5, key="late"
        ),
    )
    assert isinstance(result, ApplicationError) and result.status == 404
    assert not Membership.objects.filter(team=team, user=member).exists()
    assert credits_selectors.balance_member(team_id=team.id, user_id=member.id) == 0
    assert credits_selectors.balance_pool(team_id=team.id) == 25
    assert credits_selectors.ledger_audit().clean


def test_the_last_use_of_an_invite_link_goes_to_one_person(team):
    team, admin, _member = team
    link = services.invite_link_create(actor=admin, team_id=team.id, max_uses=1)
    people = [UserFactory() for _ in range(6)]
    results = race(6, lambda i: services.invite_link_join(key=link.key, user=people[i]))
    joined = [r for r in results if isinstance(r, services.TeamJoin)]
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(joined) == 1, results
    assert {r.code for r in refused} == {"invite_link_used_up"}
    link.refresh_from_db()
    assert link.uses == 1
    assert Membership.objects.filter(team=team, role=Role.MEMBER).count() == 2
