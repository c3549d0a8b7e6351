import pytest

from common.errors import NotFound
from teams import selectors
from tests.factories import MembershipFactory, TeamFactory


@pytest.mark.django_db
def test_team_get_finds_any_team_by_id():
    team = TeamFactory()
    assert selectors.team_get(team_id=str(team.pk)) == team


@pytest.mark.django_db
@pytest.mark.parametrize("team_id", ["abc", None, 0, -1, 99999999999999999999, 10**6])
def test_team_get_answers_no_such_team_for_any_bad_id(team_id):
    with pytest.raises(NotFound, match="No such team"):
        selectors.team_get(team_id=team_id)


@pytest.mark.django_db
def test_is_team_admin_only_for_the_teams_admins():
    admin = MembershipFactory(role="admin")
    member = MembershipFactory(team=admin.team, role="member")
    assert selectors.is_team_admin(user=admin.user, team_id=admin.team_id)
    assert not selectors.is_team_admin(user=member.user, team_id=admin.team_id)
    assert not selectors.is_team_admin(user=admin.user, team_id=TeamFactory().pk)


def _personal_and_shared():
    personal = MembershipFactory(team=TeamFactory(name="Solo", is_personal=True), role="admin")
    shared = MembershipFactory(team=TeamFactory(name="Acme"), user=personal.user)
    return personal, shared


@pytest.mark.django_db
def test_current_team_is_the_switchers_choice_while_the_user_belongs_to_it():
    personal, shared = _personal_and_shared()
    user = personal.user
    assert selectors.team_id_current(user=user, chosen_team_id=personal.team_id) == personal.team_id
    assert selectors.team_id_current(user=user, chosen_team_id=shared.team_id) == shared.team_id


@pytest.mark.django_db
def test_current_team_defaults_to_the_first_shared_team_over_the_personal_one():
    personal, shared = _personal_and_shared()
    assert selectors.team_id_current(user=personal.user, chosen_team_id=None) == shared.team_id
    left = TeamFactory().pk  # chosen earlier, then the user left it
    assert selectors.team_id_current(user=personal.user, chosen_team_id=left) == shared.team_id


@pytest.mark.django_db
def test_current_team_is_none_for_a_user_in_no_team():
    from tests.factories import UserFactory

    assert selectors.team_id_current(user=UserFactory(), chosen_team_id=None) is None
