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
