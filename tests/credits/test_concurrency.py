"""Real threads on PostgreSQL: concurrent spends can never overdraw."""

import pytest

from common.errors import InsufficientCredits
from credits import selectors
from credits import services as s
from tests.conftest import needs_postgres
from tests.factories import MembershipFactory, TeamFactory
from tests.threads import race


@pytest.mark.django_db(transaction=True)
def test_fifty_threads_holding_on_a_balance_for_ten_exactly_ten_win():
    needs_postgres()
    team = TeamFactory()
    member = MembershipFactory(team=team).user
    s.credits_grant(team_id=team.id, user_id=member.id, amount=30, category="purchase", key="g")

    def hold(i: int):
        return s.credits_hold(
            team_id=team.id, user_id=member.id, amount=3, key=f"job{i}", category="headshot"
        )

    results = race(50, hold)
    wins = [r for r in results if not isinstance(r, Exception)]
    losses = [r for r in results if isinstance(r, Exception)]
    assert len(wins) == 10
    assert all(isinstance(r, InsufficientCredits) for r in losses), losses[:3]
    assert selectors.balance_member(team_id=team.id, user_id=member.id) == 0
    assert selectors.ledger_audit().clean


@pytest.mark.django_db(transaction=True)
def test_the_same_key_racing_from_many_threads_grants_once():
    needs_postgres()
    team = TeamFactory()

    def grant(i: int):
        return s.credits_grant(team_id=team.id, amount=7, category="purchase", key="cs_same")

    results = race(20, grant)
    assert not [r for r in results if isinstance(r, Exception)]
    assert sum(1 for r in results if r.created) == 1
    assert selectors.balance_pool(team_id=team.id) == 7
    assert selectors.ledger_audit().clean
