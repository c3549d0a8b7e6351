"""OpenAPI generation details shared by every app."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


class AutoSchema(SpectacularAutoSchema):
    """Names a view's nested `InputSerializer` / `OutputSerializer` after the view
    (`TeamCreditsReassignApi.InputSerializer` -> `TeamCreditsReassignInput`), so the
    house style of nested serializers never produces two components called "Input"."""

    def get_serializer_name(self, serializer, direction) -> str:
        name = super().get_serializer_name(serializer, direction)
        qualname = type(serializer).__qualname__
        if "." not in qualname:
            return name
        outer, inner = qualname.split(".")[-2:]
        return outer.removesuffix("Api") + inner.removesuffix("Serializer")

    def _get_paginator(self):
        # Our views are plain APIViews that answer every list through common.api.paginated,
        # so a GET documented with a many=True serializer is a page of them.
        paginator = super()._get_paginator()
        if paginator is None and self.method == "GET":
            from common.api import Pagination

            return Pagination()
        return paginator


class SessionTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.SessionTokenAuthentication"
    name = "sessionToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Session-Token",
            "description": "The session token from POST /_allauth/app/v1/auth/login (or signup).",
        }


class TeamApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.TeamApiKeyAuthentication"
    name = "teamApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "`Api-Key <key>`: a team API key from POST /api/v1/teams/{team_id}/api-keys. "
                "It acts as its creator, only within its team."
            ),
        }
