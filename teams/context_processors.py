from teams import selectors


def current_team(request) -> dict:
    """The team the pages act on (the switcher's choice) and the list to switch between."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    memberships = list(selectors.memberships_for_user(user=user))
    current = selectors.membership_current(
        memberships=memberships, chosen_team_id=request.session.get("team_id")
    )
    return {"my_memberships": memberships, "current_membership": current}
