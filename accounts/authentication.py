from importlib import import_module

from allauth.headless import app_settings as headless_settings
from allauth.headless.contrib.rest_framework.authentication import XSessionTokenAuthentication
from allauth.headless.tokens.strategies.sessions import SessionTokenStrategy
from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user,
    load_backend,
)
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from accounts.selectors import user_for_session
from teams.permissions import api_key_scope_check
from teams.selectors import team_api_key_authenticate
from teams.services import team_api_key_touch


class SessionTokenAuthentication(XSessionTokenAuthentication):
    """allauth's X-Session-Token, answering 401 (not 403) when no credentials are sent.

    The token is a session key. allauth asks the session store whether it `exists()` and
    then loads it: two cache reads per call (two queries when the cache is cold) before the
    user query. Every API call pays this, so the session is loaded once here: one cache
    read and one query (the user) per call, two queries cold. Expiry, a changed password
    (session hash), a deactivated user and logout are checked exactly as before, by
    Django's `get_user`. A custom allauth token strategy keeps allauth's own lookup.
    """

    def authenticate(self, request):
        token = self.get_session_token(request)
        if not token:
            return None
        if type(headless_settings.TOKEN_STRATEGY) is not SessionTokenStrategy:
            return super().authenticate(request)
        found = _token_user(token)
        if found is None:
            # A token was sent and is no good: say so, rather than "not provided".
            raise exceptions.AuthenticationFailed(
                "The session token is invalid or has expired. Sign in again."
            )
        return found

    def authenticate_header(self, request) -> str:
        return 'X-Session-Token realm="api"'


def _token_user(token: str):
    """(user, session) for a live session token, else None."""
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=token)
    if session.session_key is None:
        return None  # not a well-formed key: loading it would mint a fresh one
    # The one load: a missing or expired session comes back empty with no key.
    if session.get(SESSION_KEY) is None or not session.session_key:
        return None
    user = _session_user(session)
    if user is None or not user.is_authenticated:
        return None
    return user, session


def _session_user(session):
    """Django's `get_user` for a loaded session. Its common case (a model backend, the
    user found, allowed in, the session hash equal to the user's) reads the user with
    a compiled query; anything else (no such backend or user, a hash made with a
    fallback secret, a changed password) is left to `get_user` itself, which also
    rotates or flushes the session as it should."""
    try:
        user_id = int(session[SESSION_KEY])
        backend_path = session[BACKEND_SESSION_KEY]
        session_hash = session[HASH_SESSION_KEY]
    except (KeyError, TypeError, ValueError):
        return _django_get_user(session)
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return _django_get_user(session)
    backend = load_backend(backend_path)
    if type(backend).get_user is not ModelBackend.get_user:
        return _django_get_user(session)
    user = user_for_session(user_id=user_id)
    if user is None or not backend.user_can_authenticate(user):
        return None
    if isinstance(session_hash, str) and constant_time_compare(
        session_hash, user.get_session_auth_hash()
    ):
        return user
    return _django_get_user(session)


def _django_get_user(session):
    carrier = HttpRequest()
    carrier.session = session
    return get_user(carrier)


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
