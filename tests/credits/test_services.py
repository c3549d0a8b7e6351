import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from common.errors import ApplicationError, Conflict, InsufficientCredits
from credits import selectors
from credits import services as s
from credits.models import Debt, Entry, Transaction
from tests.factories import MembershipFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    return TeamFactory()


@pytest.fixture
def member(team):
    return MembershipFactory(team=team).user


def pool(team):
    return selectors.balance_pool(team_id=team.id)


def bal(team, user):
    return selectors.balance_member(team_id=team.id, user_id=user.id)


def grant(team, amount=50, key="g1"):
    return s.credits_grant(team_id=team.id, amount=amount, category=s.Category.PURCHASE, key=key)


def assert_audit_clean():
    report = selectors.ledger_audit()
    assert report.clean, report.problems


def test_grant_puts_credits_in_the_pool(team):
    grant(team, 50)
    assert pool(team) == 50
    assert_audit_clean()


def test_grant_with_the_same_key_moves_credits_once(team):
    first = grant(team, 50, key="evt_1")
    second = grant(team, 50, key="evt_1")
    assert first.created and not second.created
    assert second.transaction.pk == first.transaction.pk
    assert pool(team) == 50


def test_allocate_moves_pool_to_member(team, member):
    grant(team, 50)
    s.credits_allocate(team_id=team.id, user_id=member.id, amount=20, key="a1")
    assert (pool(team), bal(team, member)) == (30, 20)
    assert_audit_clean()


def test_allocate_more_than_the_pool_raises_and_moves_nothing(team, member):
    grant(team, 10)
    with pytest.raises(InsufficientCredits, match="has 10 credits; 11 are needed"):
        s.credits_allocate(team_id=team.id, user_id=member.id, amount=11, key="a1")
    assert (pool(team), bal(team, member)) == (10, 0)
    assert not Transaction.objects.filter(idempotency_key="a1").exists()


@pytest.mark.parametrize("amount", [0, -5, 2.5, True, "7", 10**9])
def test_bad_amounts_are_refused(team, member, amount):
    grant(team, 10)
    with pytest.raises(ApplicationError):
        s.credits_allocate(team_id=team.id, user_id=member.id, amount=amount, key="bad")
    assert pool(team) == 10


def test_auto_distribute_splits_evenly_and_keeps_the_remainder(team):
    users = [MembershipFactory(team=team).user for _ in range(3)]
    grant(team, 10)
    s.credits_auto_distribute(team_id=team.id, user_ids=[u.id for u in users], key="d1")
    assert [bal(team, u) for u in users] == [3, 3, 3]
    assert pool(team) == 1
    assert_audit_clean()


def test_auto_distribute_with_too_little_in_the_pool_is_refused(team):
    users = [MembershipFactory(team=team).user for _ in range(3)]
    grant(team, 2)
    with pytest.raises(InsufficientCredits):
        s.credits_auto_distribute(team_id=team.id, user_ids=[u.id for u in users], key="d1")
    assert pool(team) == 2


def test_reassign_moves_between_members(team, member):
    other = MembershipFactory(team=team).user
    grant(team, 10)
    s.credits_allocate(team_id=team.id, user_id=member.id, amount=10, key="a1")
    s.credits_reassign(
        team_id=team.id, from_user_id=member.id, to_user_id=other.id, amount=4, key="r1"
    )
    assert (bal(team, member), bal(team, other)) == (6, 4)


def test_hold_capture_release_settles_exactly(team, member):
    grant(team, 10)
    s.credits_allocate(team_id=team.id, user_id=member.id, amount=10, key="a1")
    s.credits_hold(
        team_id=team.id, user_id=member.id, amount=9, key="job1", category=s.Category.HEADSHOT
    )
    assert bal(team, member) == 1
    s.credits_capture(hold_key="job1", amount=5, key="job1:capture:0")
    s.credits_capture(hold_key="job1", amount=5, key="job1:capture:0")  # replay: no effect
    s.credits_release(hold_key="job1", key="job1:release")
    assert bal(team, member) == 5
    assert selectors.spent_by_user(user_id=member.id) == 5
    assert_audit_clean()


def test_capture_beyond_the_hold_is_refused(team, member):
    grant(team, 10)
    s.credits_allocate(team_id=team.id, user_id=member.id, amount=10, key="a1")
    s.credits_hold(
        team_id=team.id, user_id=member.id, amount=3, key="job1", category=s.Category.HEADSHOT
    )
    with pytest.raises(Conflict):
        s.credits_capture(hold_key="job1", amount=4, key="c")
    s.credits_release(hold_key="job1", key="rel")
    with pytest.raises(Conflict):
        s.credits_capture(hold_key="job1", amount=1, key="c2")
    assert bal(team, member) == 10


def test_hold_on_a_short_balance_writes_nothing(team, member):
    with pytest.raises(InsufficientCredits):
        s.credits_hold(
            team_id=team.id, user_id=member.id, amount=3, key="job1", category=s.Category.HEADSHOT
        )
    assert not Transaction.objects.exists()


def test_refund_returns_spent_credits_to_the_member(team, member):
    grant(team, 5)
    s.credits_allocate(team_id=team.id, user_id=member.id, amount=5, key="a1")
    s.credits_hold(team_id=team.id, user_id=member.id, amount=5, key="j", category="headshot")
    s.credits_capture(hold_key="j", amount=5, key="j:cap")
    s.credits_refund(
        team_id=team.id, user_id=member.id, amount=5, key="refund:j", actor_id=None, reason="blurry"
    )
    s.credits_refund(
        team_id=team.id, user_id=member.id, amount=5, key="refund:j", actor_id=None, reason="blurry"
    )
    assert bal(team, member) == 5
    assert selectors.spent_by_user(user_id=member.id) == 0
    assert_audit_clean()


def test_clawback_takes_what_is_unspent_and_records_the_rest_as_owed(team, member):
    grant(team, 50)
    s.credits_allocate(team_id=team.id, user_id=member.id, amount=45, key="a1")
    _movement, owed = s.credits_clawback(team_id=team.id, amount=50, key="refund:ch_1")
    assert owed == 45 and pool(team) == 0
    assert Debt.objects.get().amount == 45
    _, owed_again = s.credits_clawback(team_id=team.id, amount=50, key="refund:ch_1")
    assert owed_again == 45 and Debt.objects.count() == 1
    assert_audit_clean()


def test_adjust_needs_a_reason_and_can_go_down(team, member):
    grant(team, 5)
    with pytest.raises(ApplicationError, match="reason"):
        s.credits_adjust(team_id=team.id, amount=3, key="adj", actor_id=None, reason=" ")
    s.credits_adjust(team_id=team.id, amount=-3, key="adj", actor_id=None, reason="duplicate grant")
    assert pool(team) == 2
    with pytest.raises(InsufficientCredits):
        s.credits_adjust(team_id=team.id, amount=-3, key="adj2", actor_id=None, reason="again")


def test_reward_is_capped_per_day(team, member, settings):
    from django.utils import timezone

    day = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    for i in range(2):
        s.credits_reward(
            team_id=team.id, user_id=member.id, key=f"ad{i}", amount=1, daily_cap=2, day_start=day
        )
    s.credits_reward(
        team_id=team.id, user_id=member.id, key="ad1", amount=1, daily_cap=2, day_start=day
    )
    with pytest.raises(ApplicationError, match="limit of 2"):
        s.credits_reward(
            team_id=team.id, user_id=member.id, key="ad9", amount=1, daily_cap=2, day_start=day
        )
    assert bal(team, member) == 2


def test_history_filters_by_type(team, member):
    grant(team, 5)
    s.credits_allocate(team_id=team.id, user_id=member.id, amount=5, key="a1")
    s.credits_hold(team_id=team.id, user_id=member.id, amount=3, key="j", category="headshot")
    s.credits_capture(hold_key="j", amount=3, key="j:capture")
    assert [e.amount for e in selectors.history_for_user(user_id=member.id)] == [-3, 5]
    assert [
        e.amount for e in selectors.history_for_user(user_id=member.id, category="allocation")
    ] == [5]
    assert [
        e.amount for e in selectors.history_for_user(user_id=member.id, category="headshot")
    ] == [-3]


def test_audit_command_passes_on_a_clean_ledger(team, capsys):
    grant(team, 5)
    call_command("credits_audit")
    assert "Ledger clean" in capsys.readouterr().out


def test_audit_command_fails_when_a_cached_balance_drifts(team):
    grant(team, 5)
    Entry.objects.filter(account__kind="pool").update(amount=4)
    with pytest.raises(CommandError, match="problem"):
        call_command("credits_audit")


def test_an_adjustment_key_reused_for_another_amount_is_a_conflict(team, member):
    s.credits_adjust(team_id=team.id, amount=5, key="adj", actor_id=member.id, reason="goodwill")

    with pytest.raises(Conflict):
        s.credits_adjust(team_id=team.id, amount=7, key="adj", actor_id=member.id, reason="x")

    assert pool(team) == 5


def test_an_adjustment_replayed_with_the_same_amount_returns_the_first(team, member):
    first = s.credits_adjust(team_id=team.id, amount=5, key="adj", actor_id=member.id, reason="r")
    again = s.credits_adjust(team_id=team.id, amount=5, key="adj", actor_id=member.id, reason="r")
    assert (again.created, again.transaction.pk) == (False, first.transaction.pk)
    assert pool(team) == 5
