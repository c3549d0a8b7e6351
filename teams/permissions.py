"""What a request made with a team API key may reach: its own team, nothing else.

The check runs twice on purpose: in `TeamApiKeyAuthentication` (so a view that sets its
own `permission_classes`, like the staff APIs, cannot skip it) and as `ApiKeyTeamScope`
in DEFAULT_PERMISSION_CLASSES (so it stays visible where permissions are declared)."""

from __future__ import annotations

from collections.abc import Mapping

from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission

from teams.models import TeamApiKey

# Endpoints with no team in them that a key may still read.
TEAMLESS_READS = frozenset({"/api/v1/me", "/api/v1/headshots/config"})
# Endpoints that name the team in the body and act only inside it. Everything else that
# looks objects up by the key's creator (history, a generation by id, characters...) would
# also find the creator's objects in other teams, so a key may not use it.
TEAM_IN_BODY = frozenset({("POST", "/api/v1/headshots/estimate"), ("POST", "/api/v1/headshots")})
# Reads of the creator's generations that the views narrow to the key's team
# (common.api.key_team_id): history, status, export and image download.
KEY_TEAM_FILTERED_READS = frozenset(
    {"api-headshots", "api-headshot", "api-headshot-export", "api-headshot-image-download"}
)
# Keys never manage keys, and never reach staff endpoints, whoever created them.
REFUSED_URL_NAMES = frozenset({"api-team-api-keys", "api-team-api-key"})
REFUSED_PREFIXES = ("/api/v1/admin/",)


def _refuse(message: str):
    raise exceptions.PermissionDenied(message, code="api_key_scope")


def _team_ids(request, url_kwargs: Mapping) -> list[str]:
    ids = []
    if "team_id" in url_kwargs:
        ids.append(url_kwargs["team_id"])
    if "team" in request.query_params:
        ids.extend(request.query_params.getlist("team"))
    data = request.data
    if isinstance(data, Mapping) and "team" in data:
        ids.append(data["team"])
    return [str(value) for value in ids]


def api_key_scope_check(*, request, key: TeamApiKey, url_kwargs: Mapping, url_name: str) -> None:
    """Raise 403 `api_key_scope` unless this request stays within the key's team."""
    path = request.path_info
    if path.startswith(REFUSED_PREFIXES) or url_name in REFUSED_URL_NAMES:
        _refuse("An API key cannot be used for this endpoint.")
    safe = request.method in SAFE_METHODS
    # Reads that need no team named: the team-less ones, and those the view narrows itself.
    teamless_read = safe and (
        path.rstrip("/") in TEAMLESS_READS or url_name in KEY_TEAM_FILTERED_READS
    )
    in_url = "team_id" in url_kwargs
    if not in_url and not teamless_read and (request.method, path.rstrip("/")) not in TEAM_IN_BODY:
        _refuse(
            "An API key reaches its team's endpoints (/api/v1/teams/{id}/...), headshot "
            "submits and its team's headshots only."
        )
    if isinstance(request.data, Mapping) and request.data.get("retry_of"):
        _refuse("Retry with a session token: an API key cannot reach generations by id.")
    team_ids = _team_ids(request, url_kwargs)
    if not team_ids:
        if teamless_read:
            return
        _refuse("With an API key, name the key's team in the request.")
    if any(team_id != str(key.team_id) for team_id in team_ids):
        _refuse("This API key belongs to another team.")


class ApiKeyTeamScope(BasePermission):
    """No-op for sessions; for a TeamApiKey, see `api_key_scope_check`."""

    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, TeamApiKey):
            match = request.resolver_match
            api_key_scope_check(
                request=request,
                key=request.auth,
                url_kwargs=view.kwargs,
                url_name=match.url_name if match else "",
            )
        return True
