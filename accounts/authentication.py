from allauth.headless.contrib.rest_framework.authentication import XSessionTokenAuthentication
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from teams.permissions import api_key_scope_check
from teams.selectors import team_api_key_authenticate
from teams.services import team_api_key_touch


class SessionTokenAuthentication(XSessionTokenAuthentication):
    """allauth's X-Session-Token, answering 401 (not 403) when no credentials are sent."""

    def authenticate_header(self, request) -> str:
        return 'X-Session-Token realm="api"'


class TeamApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Api-Key ps_…`: acts as the key's creator, within the key's team.

    `request.auth` is the TeamApiKey. A revoked key, or one whose creator no longer
    administers the team, answers 401; a request outside the key's team answers 403."""

    keyword = b"api-key"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Send `Authorization: Api-Key <key>`.")
        try:
            plaintext = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid API key.") from None
        key = team_api_key_authenticate(plaintext=plaintext)
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        match = request._request.resolver_match
        api_key_scope_check(
            request=request,
            key=key,
            url_kwargs=match.kwargs if match else {},
            url_name=match.url_name if match else "",
        )
        team_api_key_touch(key=key)
        return key.created_by, key

    def authenticate_header(self, request) -> str:
        return 'Api-Key realm="api"'
