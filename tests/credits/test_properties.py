"""Random sequences of ledger operations keep every invariant after every step."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from common.errors import ApplicationError
from credits import selectors
from credits import services as s
from tests.factories import MembershipFactory, TeamFactory

amounts = st.integers(min_value=-3, max_value=40)
member_index = st.integers(min_value=0, max_value=2)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("grant"), amounts),
        st.tuples(st.just("allocate"), member_index, amounts),
        st.tuples(st.just("reassign"), member_index, member_index, amounts),
        st.tuples(st.just("distribute")),
        st.tuples(st.just("hold"), member_index, amounts),
        st.tuples(st.just("capture"), st.integers(0, 5), amounts),
        st.tuples(st.just("release"), st.integers(0, 5)),
        st.tuples(st.just("clawback"), amounts),
        st.tuples(st.just("replay")),
    ),
    min_size=1,
    max_size=25,
)


class LedgerPropertyTests(TestCase):
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(operations)
    def test_invariants_hold_after_every_operation(self, ops):
        team = TeamFactory()
        users = [MembershipFactory(team=team).user for _ in range(3)]
        expected = {"pool": 0, **{u.id: 0 for u in users}}
        holds: list[tuple[str, int, int]] = []  # key, user id, outstanding
        last_key = None
        for step, op in enumerate(ops):
            key = f"k{step}"
            name = op[0]
            try:
                if name == "grant":
                    s.credits_grant(team_id=team.id, amount=op[1], category="purchase", key=key)
                    expected["pool"] += op[1]
                    last_key = key
                elif name == "allocate":
                    user = users[op[1]]
                    s.credits_allocate(team_id=team.id, user_id=user.id, amount=op[2], key=key)
                    expected["pool"] -= op[2]
                    expected[user.id] += op[2]
                elif name == "reassign":
                    a, b = users[op[1]], users[op[2]]
                    s.credits_reassign(
                        team_id=team.id, from_user_id=a.id, to_user_id=b.id, amount=op[3], key=key
                    )
                    expected[a.id] -= op[3]
                    expected[b.id] += op[3]
                elif name == "distribute":
                    s.credits_auto_distribute(
                        team_id=team.id, user_ids=[u.id for u in users], key=key
                    )
                    share = expected["pool"] // 3
                    expected["pool"] -= share * 3
                    for u in users:
                        expected[u.id] += share
                elif name == "hold":
                    user = users[op[1]]
                    s.credits_hold(
                        team_id=team.id, user_id=user.id, amount=op[2], key=key, category="headshot"
                    )
                    expected[user.id] -= op[2]
                    holds.append((key, user.id, op[2]))
                elif name == "capture" and holds:
                    index = op[1] % len(holds)
                    hold_key, uid, left = holds[index]
                    s.credits_capture(hold_key=hold_key, amount=op[2], key=key)
                    holds[index] = (hold_key, uid, left - op[2])
                elif name == "release" and holds:
                    hold_key, uid, left = holds[op[1] % len(holds)]
                    s.credits_release(hold_key=hold_key, key=key)
                    expected[uid] += left
                    holds[op[1] % len(holds)] = (hold_key, uid, 0)
                elif name == "clawback":
                    _, owed = s.credits_clawback(team_id=team.id, amount=op[1], key=key)
                    expected["pool"] -= op[1] - owed
                elif name == "replay" and last_key:
                    # The last grant replayed must move nothing.
                    movement = s.credits_grant(
                        team_id=team.id, amount=1, category="purchase", key=last_key
                    )
                    assert not movement.created
            except ApplicationError:
                pass  # refused: the model above was not updated, and nothing may have moved

            report = selectors.ledger_audit()
            assert report.clean, (op, report.problems)
            assert selectors.balance_pool(team_id=team.id) == expected["pool"], op
            for u in users:
                assert selectors.balance_member(team_id=team.id, user_id=u.id) == expected[u.id], op
