from teams import selectors


def current_team(request) -> dict:
    """The team the pages act on (the switcher's choice) and the list to switch between."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    memberships = list(selectors.memberships_for_user(user=user))
    chosen = request.session.get("team_id")
    current = next((m for m in memberships if m.team_id == chosen), None)
    if current is None and memberships:
        current = next((m for m in memberships if not m.team.is_personal), memberships[0])
    return {"my_memberships": memberships, "current_membership": current}
