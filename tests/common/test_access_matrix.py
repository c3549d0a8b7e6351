"""Access control, as one table: every route of ours by six actors (tracker issue 8).

Each row is one request on tenant A's objects (tests/common/access_fixtures.py builds
them) and says what each actor must get. Columns, always in this order:

    anonymous  other_user  other_team (B)  member  admin  staff

- `other_user` is signed in with only the personal team every user gets; `other_team`
  is the admin of tenant B (which has objects of its own); `member` and `admin` are A's;
  `staff` is `is_staff` (and superuser, as staff are made) but in no team. Pages use a
  browser session, the API the mobile app's X-Session-Token (real authentication).
- A 2xx is an allowed request; 4xx/5xx a refusal. A bare 3xx is an allowed redirect;
  `x302` / `x200` is a refusal that answers with a redirect or the page again (a flash
  message); `login` is a redirect to the sign-in page and `adminlogin` to admin's.

For every refusal the test also proves that nothing of ours changed in the database
(every row of every table of our apps is compared); for every answer, that no string
only another tenant's objects carry (team names, e-mails, project, character and
version names, key names, invitation keys; for A's admin also the member's generation)
reaches the actor; and, where the row names A's objects, that an outsider's answer is
exactly what a missing object gets (no "exists but forbidden" signal). Where the code
falls short, the row says what the product must do and carries a strict xfail whose
reason starts with "BUG".

PROBES add single requests the columns cannot express: B's admin naming A's people and
objects on B's own routes, staff mixing the tenants, and team API keys (A's, B's, a
revoked one).

`test_every_route_is_in_the_table` fails when a route appears that no row covers (for an
API view: each of its methods) and that is not one of the third-party routes excluded
below, each with its reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
import stripe
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from rest_framework.test import APIClient

from billing import services as billing_services
from billing import stripe_gateway
from common.errors import NotFound
from credits.services import system_accounts_forget
from staff.models import SiteSettings
from tests.common.access_fixtures import (
    ACTORS,
    FACE,
    IN_TEAM_A,
    TINY,
    World,
    build_world,
    diff,
    fill,
    placeholders,
    snapshot,
)

pytestmark = pytest.mark.django_db


# --- outcomes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    token: str
    status: int
    allowed: bool
    redirect: str | None = None  # where a redirect must point (a prefix)


def outcome(token: str) -> Outcome:
    if token == "login":
        return Outcome(token, 302, False, "/accounts/login/")
    if token == "adminlogin":
        return Outcome(token, 302, False, "/admin/login/")
    if token.startswith("x"):
        return Outcome(token, int(token[1:]), False)
    status = int(token)
    return Outcome(token, status, status < 400)


@dataclass(frozen=True)
class Row:
    kind: str  # "api" or "page"
    method: str
    path: str  # with {placeholders} from World.ids
    expect: dict[str, Outcome]
    data: Any = None
    fmt: str = "json"  # api bodies: json or multipart
    headers: dict = field(default_factory=dict)
    label: str = ""  # tells two rows of one route and method apart
    # Whoever holds the key/token may use it (invitation links, signed file and share URLs):
    # the outsider checks (leak, same-as-missing) do not apply.
    capability: bool = False
    staff_sees_all: bool = False  # staff tools show any tenant's data to staff
    refused_json: dict | None = None  # what a refusal answering 200 must say
    bugs: dict[str, str] = field(default_factory=dict)  # actor -> "BUG: ..." (strict xfail)

    @property
    def scoped(self) -> bool:
        return bool(placeholders(self.path) | placeholders(self.data))

    def title(self) -> str:
        return f"{self.method} {self.path}" + (f" [{self.label}]" if self.label else "")


def _row(kind, method, path, expect, **kwargs) -> Row:
    tokens = expect.split()
    assert len(tokens) == len(ACTORS), f"{method} {path}: one outcome per actor"
    return Row(kind, method, path, dict(zip(ACTORS, map(outcome, tokens), strict=True)), **kwargs)


def api(method, path, expect, **kwargs) -> Row:
    return _row("api", method, "/api/v1/" + path, expect, **kwargs)


def page(method, path, expect, **kwargs) -> Row:
    return _row("page", method, path, expect, **kwargs)


# --- the table ---------------------------------------------------------------------------
# On tenant-scoped routes anonymous gets 401 (API) or the sign-in page, and everyone outside
# A, staff included (staff work in Django admin and /api/v1/admin/), gets 404.

SPEC = {"team": "{team}", "style": "corporate"}
PHOTO = {"team": "{team}", "style": "corporate", "photo": FACE}
NEW_PHOTO = {
    "photo": FACE,
    "style": "corporate",
    "aspect_ratio": "1:1",
    "quality": "standard",
    "batch_size": 1,
}
CHOICE = {"template": "headshot", "art_style": "realistic", "aspect_ratio": "1:1"}
CHARACTER_VERSIONS = "characters/{character}/versions"

# fmt: off
API_ROWS = [
    # method   path under /api/v1/                                      anon   other  B      member admin  staff
    # accounts: the signed-in user's own things
    api("GET",     "me",                                               "401    200    200    200    200    200"),
    api("GET",     "credits/history",                                  "401    200    200    200    200    200"),
    api("POST",    "credits/rewards",                                  "401    201    201    201    201    201",
        headers={"HTTP_IDEMPOTENCY_KEY": "ad-impression-1"}),
    # teams
    api("GET",     "teams",                                            "401    200    200    200    200    200"),
    api("POST",    "teams",                                            "401    201    201    201    201    201",
        data={"name": "A fresh team"}),
    api("GET",     "teams/{team}/members",                             "401    404    404    200    200    404"),
    api("PATCH",   "teams/{team}/members/{member_id}",                 "401    404    404    403    200    404",
        data={"role": "admin"}),
    api("DELETE",  "teams/{team}/members/{member_id}",                 "401    404    404    403    204    404"),
    api("GET",     "teams/{team}/removals",                            "401    404    404    403    200    404"),
    api("GET",     "teams/{team}/invitations",                         "401    404    404    403    200    404"),
    api("POST",    "teams/{team}/invitations",                         "401    404    404    403    201    404",
        data={"email": "new.person@tenant-a.test", "credits": 2}),
    # The link's key is the capability: its holder learns whom it was sent to, nobody joins.
    api("POST",    "invitations/{invitation_key}/accept",              "401    403    403    403    403    403",
        capability=True),
    api("GET",     "teams/{team}/invite-links",                        "401    404    404    403    200    404"),
    api("POST",    "teams/{team}/invite-links",                        "401    404    404    403    201    404",
        data={"max_uses": 3}),
    api("DELETE",  "teams/{team}/invite-links/{invite_link}",          "401    404    404    403    204    404"),
    # An open link: whoever holds it joins (as a member); joining one's own team changes nothing.
    api("POST",    "invite-links/{invite_link_key}/join",              "401    200    200    200    200    200",
        capability=True),
    api("GET",     "teams/{team}/credits",                             "401    404    404    403    200    404"),
    api("POST",    "teams/{team}/credits/allocate",                    "401    404    404    403    201    404",
        data={"user_id": "{member_id}", "amount": 5}),
    api("POST",    "teams/{team}/credits/auto-distribute",             "401    404    404    403    201    404"),
    api("POST",    "teams/{team}/credits/reassign",                    "401    404    404    403    201    404",
        data={"from_user_id": "{member_id}", "to_user_id": "{admin_id}", "amount": 5}),
    api("GET",     "teams/{team}/api-keys",                            "401    404    404    403    200    404"),
    api("POST",    "teams/{team}/api-keys",                            "401    404    404    403    201    404",
        data={"name": "CI"}),
    api("DELETE",  "teams/{team}/api-keys/{api_key}",                  "401    404    404    403    204    404"),
    # billing
    api("GET",     "billing/packages",                                 "401    200    200    200    200    200"),
    api("POST",    "billing/checkout",                                 "401    404    404    403    201    404",
        data={"team": "{team}", "package": "starter"}),
    # headshots: a generation is its maker's alone (the team admin does not see it either)
    api("GET",     "headshots/config?team={team}",                     "401    404    404    200    200    404"),
    api("POST",    "headshots/estimate",                               "401    404    404    200    200    404",
        data=SPEC),
    api("POST",    "headshots/inspect",                                "401    200    200    200    200    200",
        data={"photo": TINY}, fmt="multipart"),
    api("POST",    "headshots/batch",                                  "401    404    404    202    202    404",
        data={"team": "{team}", "photo": FACE, "styles": ["corporate", "medical"]},
        fmt="multipart"),
    # Ids that are not yours are skipped: the answer is the same for missing ones.
    api("POST",    "headshots/bulk",                                   "401    x200   x200   200    x200   x200",
        data={"ids": ["{gen}"], "action": "favorite"}, refused_json={"updated": 0}),
    api("GET",     "headshots",                                        "401    200    200    200    200    200"),
    api("POST",    "headshots",                                        "401    404    404    202    202    404",
        data=PHOTO, fmt="multipart", label="photo"),
    api("POST",    "headshots",                                        "401    404    404    202    404    404",
        data={"retry_of": "{failed_gen}", "style": "corporate"}, label="retry_of"),
    api("GET",     "headshots/{gen}",                                  "401    404    404    200    404    404"),
    api("DELETE",  "headshots/{gen}",                                  "401    404    404    204    404    404"),
    api("POST",    "headshots/{gen}/favorite",                         "401    404    404    200    404    404"),
    api("DELETE",  "headshots/{gen}/favorite",                         "401    404    404    200    404    404"),
    api("POST",    "headshots/{failed_gen}/retry",                     "401    404    404    202    404    404"),
    api("GET",     "headshots/{gen}/export",                           "401    404    404    200    404    404"),
    api("GET",     "headshots/images/{image}/download",                "401    404    404    200    404    404"),
    api("POST",    "headshots/images/{image}/favorite",                "401    404    404    200    404    404"),
    api("DELETE",  "headshots/images/{image}/favorite",                "401    404    404    200    404    404"),
    api("POST",    "headshots/images/{image}/share",                   "401    404    404    201    404    404"),
    # characters: the whole team works on a project; deleting is its maker's or an admin's
    api("GET",     "characters/config",                                "401    200    200    200    200    200"),
    api("POST",    "characters/estimate",                              "401    200    200    200    200    200",
        data={"template": "headshot"}),
    api("GET",     "characters/projects",                              "401    200    200    200    200    200"),
    api("POST",    "characters/projects",                              "401    404    404    201    201    404",
        data={"team": "{team}", "name": "A new film"}),
    api("GET",     "characters/projects/{project}",                    "401    404    404    200    200    404"),
    api("PATCH",   "characters/projects/{project}",                    "401    404    404    200    200    404",
        data={"name": "Renamed film"}),
    api("DELETE",  "characters/projects/{project}",                    "401    404    404    403    204    404"),
    api("GET",     "characters/projects/{project}/characters",         "401    404    404    200    200    404"),
    api("POST",    "characters/projects/{project}/characters",         "401    404    404    201    201    404",
        data={"name": "Newcomer"}),
    api("GET",     "characters/{character}",                           "401    404    404    200    200    404"),
    api("PATCH",   "characters/{character}",                           "401    404    404    200    200    404",
        data={"name": "Renamed"}, label="name"),
    api("PATCH",   "characters/{character}",                           "401    404    404    200    200    404",
        data={"last_viewed_version": "{v2}"}, label="last_viewed_version"),
    api("DELETE",  "characters/{character}",                           "401    404    404    403    204    404"),
    api("GET",     CHARACTER_VERSIONS,                                 "401    404    404    200    200    404"),
    api("POST",    CHARACTER_VERSIONS,                                 "401    404    404    202    202    404",
        data={"template": "headshot", "character_reference": FACE}, fmt="multipart",
        label="upload"),
    api("POST",    CHARACTER_VERSIONS,                                 "401    404    404    202    202    404",
        data={"regenerate_from": "{v1}"}, label="regenerate_from"),
    api("GET",     CHARACTER_VERSIONS + "/{v2}",                       "401    404    404    200    200    404"),
    api("PATCH",   CHARACTER_VERSIONS + "/{v2}",                       "401    404    404    200    200    404",
        data={"version_name": "Renamed"}),
    api("DELETE",  CHARACTER_VERSIONS + "/{v2}",                       "401    404    404    403    204    404"),
    api("POST",    CHARACTER_VERSIONS + "/{v2}/activate",              "401    404    404    200    200    404"),
    # staff: refused before any lookup, so a 403 confirms nothing
    api("POST",    "admin/headshots/{gen}/refund",                     "401    403    403    403    403    201",
        data={"reason": "Blurry"}, staff_sees_all=True),
    api("POST",    "admin/credits/adjust",                             "401    403    403    403    403    201",
        data={"team_id": "{team}", "user_id": "{member_id}", "amount": 5, "reason": "Goodwill"},
        staff_sees_all=True),
    api("GET",     "admin/metrics",                                    "401    403    403    403    403    200",
        staff_sees_all=True),
]
# fmt: on

ALLOCATE = {"allocate-user_id": "{member_id}", "allocate-amount": 5, "allocate-key": "k1"}
REASSIGN = {
    "reassign-from_user_id": "{member_id}",
    "reassign-to_user_id": "{admin_id}",
    "reassign-amount": 5,
    "reassign-key": "k2",
}
VERSION = "/characters/{character}/versions/{v2}/"
ADJUST = {"amount": 5, "reason": "Goodwill", "key": "k4"}
SITE_SETTINGS = f"/admin/staff/sitesettings/{SiteSettings.SINGLETON_ID}/change/"
STAFF_ONLY = "adminlogin adminlogin adminlogin adminlogin adminlogin"

# fmt: off
PAGE_ROWS = [
    # method   path                                                       anon   other  B      member admin  staff
    page("GET",    "/",                                                  "200    200    200    200    200    200"),
    # teams
    page("GET",    "/teams/",                                            "login  200    200    200    200    200"),
    page("POST",   "/teams/",                                            "login  302    302    302    302    302",
        data={"name": "A page team"}),
    page("POST",   "/teams/switch/",                                     "login  x302   x302   302    302    x302",
        data={"team_id": "{team}", "next": "/"}),
    page("GET",    "/teams/{team}/",                                     "login  404    404    200    200    404"),
    page("POST",   "/teams/{team}/invite/",                              "login  404    404    x200   200    404",
        data={"email": "page.invitee@tenant-a.test", "role": "member", "credits": "2"}),
    page("POST",   "/teams/{team}/invitations/{invitation}/revoke/",     "login  404    404    x200   200    404"),
    page("POST",   "/teams/{team}/invite-links/",                        "login  404    404    x200   200    404",
        data={"allowed_domain": "", "max_uses": "", "days": "7"}),
    page("POST",   "/teams/{team}/invite-links/{invite_link}/revoke/",   "login  404    404    x200   200    404"),
    page("GET",    "/teams/join/{invite_link_key}/",                     "200    200    200    200    200    200",
        capability=True),
    page("POST",   "/teams/join/{invite_link_key}/",                     "x200   302    302    302    302    302",
        capability=True),
    page("POST",   "/teams/{team}/members/{member_id}/role/",            "login  404    404    x200   200    404",
        data={"role": "admin"}),
    page("POST",   "/teams/{team}/members/{member_id}/remove/",          "login  404    404    x200   200    404"),
    page("GET",    "/teams/invitations/{invitation_key}/",               "200    200    200    200    200    200",
        capability=True),
    page("POST",   "/teams/invitations/{invitation_key}/",               "x200   x200   x200   x200   x200   x200",
        capability=True),
    # billing
    page("GET",    "/billing/success/?session_id={session}",             "login  404    404    200    200    404"),
    page("GET",    "/billing/teams/{team}/",                             "login  404    404    200    200    404"),
    page("POST",   "/billing/teams/{team}/allocate/",                    "login  404    404    403    302    404",
        data=ALLOCATE),
    page("POST",   "/billing/teams/{team}/reassign/",                    "login  404    404    403    302    404",
        data=REASSIGN),
    page("POST",   "/billing/teams/{team}/distribute/",                  "login  404    404    403    302    404",
        data={"distribute-key": "k3"}),
    page("GET",    "/billing/teams/{team}/log/",                         "login  404    404    403    200    404"),
    page("GET",    "/billing/teams/{team}/quote/?package=custom&quantity=20", "login  404    404    403    200    404"),
    page("POST",   "/billing/teams/{team}/checkout/",                    "login  404    404    x302   302    404",
        data={"package": "starter"}),
    # headshots
    page("GET",    "/headshots/",                                        "login  200    200    200    200    200"),
    page("GET",    "/headshots/new/",                                    "login  200    200    200    200    200"),
    page("POST",   "/headshots/new/",                                    "login  302    302    302    302    302",
        data=NEW_PHOTO),
    page("POST",   "/headshots/inspect/",                                "login  200    200    200    200    200",
        data={"photo": TINY}),
    page("POST",   "/headshots/estimate/",                               "login  200    200    200    200    200",
        data={"style": "corporate", "quality": "standard", "aspect_ratio": "1:1", "batch_size": 1}),
    page("GET",    "/headshots/{gen}/",                                  "login  404    404    200    404    404"),
    page("POST",   "/headshots/{gen}/favorite/",                         "login  404    404    200    404    404"),
    # A refusal is a flash message and a redirect to the (404) detail page, as for a missing id.
    page("POST",   "/headshots/{failed_gen}/retry/",                     "login  x302   x302   302    x302   x302"),
    page("POST",   "/headshots/{gen}/delete/",                           "login  x302   x302   302    x302   x302"),
    page("GET",    "/headshots/file/{file_token}/",                      "200    200    200    200    200    200",
        capability=True),
    page("GET",    "/headshots/shared/{share_token}/",                   "200    200    200    200    200    200",
        capability=True),
    page("GET",    "/headshots/team/{team}/styles/",                     "login  404    404    403    200    404"),
    page("POST",   "/headshots/team/{team}/styles/",                     "login  404    404    403    302    404",
        data={"styles": ["corporate"], "backdrop": ""}),
    # characters
    page("GET",    "/characters/",                                       "login  200    200    200    200    200"),
    # "No such team." in the new-project form (404), exactly as for a team that does not exist.
    page("POST",   "/characters/",                                       "login  404    404    302    302    404",
        data={"team": "{team}", "name": "A page film"}),
    page("GET",    "/characters/projects/{project}/",                    "login  404    404    200    200    404"),
    page("POST",   "/characters/projects/{project}/",                    "login  404    404    302    302    404",
        data={"name": "Page character"}),
    page("POST",   "/characters/projects/{project}/delete/",             "login  404    404    x302   302    404"),
    page("GET",    "/characters/{character}/",                           "login  404    404    200    200    404"),
    page("POST",   "/characters/{character}/edit/",                      "login  404    404    302    302    404",
        data={"name": "Renamed", "description": ""}),
    page("POST",   "/characters/{character}/delete/",                    "login  404    404    x302   302    404"),
    page("POST",   "/characters/{character}/estimate/",                  "login  404    404    200    200    404",
        data=CHOICE),
    page("POST",   "/characters/{character}/generate/",                  "login  404    404    302    302    404",
        data={**CHOICE, "character_reference": FACE}),
    page("GET",    VERSION,                                              "login  404    404    302    302    404"),
    page("GET",    VERSION + "progress/",                                "login  404    404    200    200    404"),
    page("POST",   VERSION + "activate/",                                "login  404    404    302    302    404"),
    page("POST",   VERSION + "rename/",                                  "login  404    404    302    302    404",
        data={"version_name": "Renamed"}),
    page("POST",   VERSION + "delete/",                                  "login  404    404    x302   302    404"),
    page("POST",   VERSION + "regenerate/",                              "login  404    404    302    302    404"),
    # staff pages of ours inside Django admin
    page("GET",    "/admin/teams/team/{team}/adjust/",                   STAFF_ONLY + " 200", staff_sees_all=True),
    page("POST",   "/admin/teams/team/{team}/adjust/",                   STAFF_ONLY + " 302",
        data=ADJUST, staff_sees_all=True),
    page("GET",    "/admin/teams/membership/{member_membership}/adjust/", STAFF_ONLY + " 200",
        staff_sees_all=True),
    page("POST",   "/admin/teams/membership/{member_membership}/adjust/", STAFF_ONLY + " 302",
        data=ADJUST, staff_sees_all=True),
    page("GET",    "/admin/headshots/headshotgeneration/{gen}/change/",  STAFF_ONLY + " 200",
        staff_sees_all=True),
    page("GET",    "/admin/headshots/headshotgeneration/{gen}/refund/",  STAFF_ONLY + " 200",
        staff_sees_all=True),
    page("POST",   "/admin/headshots/headshotgeneration/{gen}/refund/",  STAFF_ONLY + " 302",
        data={"reason": "Blurry"}, staff_sees_all=True),
    page("GET",    "/admin/staff/sitesettings/",                         STAFF_ONLY + " 302", staff_sees_all=True),
    page("GET",    SITE_SETTINGS,                                        STAFF_ONLY + " 200", staff_sees_all=True),
    page("GET",    "/admin/staff/analytics/",                            STAFF_ONLY + " 200", staff_sees_all=True),
]
# fmt: on

ROWS = API_ROWS + PAGE_ROWS


def probe(actor, kind, method, path, token, why, **kwargs) -> Row:
    """One actor's request that mixes tenant B's ids with A's, or uses a team API key."""
    path = "/api/v1/" + path if kind == "api" else path
    return Row(kind, method, path, {actor: outcome(token)}, label=why, **kwargs)


B_ADMIN, STAFF, KEY_A, KEY_B = "other_team", "staff", "key_a", "key_b"
B_VERSION = "characters/{b_character}/versions/{v2}"

# B's admin on B's routes naming A's people and objects; staff mixing the two tenants.
# fmt: off
PROBES = [
    probe(B_ADMIN, "api", "POST", "teams/{team_b}/credits/allocate", "404", "A's member",
          data={"user_id": "{member_id}", "amount": 5}),
    probe(B_ADMIN, "api", "POST", "teams/{team_b}/credits/reassign", "404", "from A's member",
          data={"from_user_id": "{member_id}", "to_user_id": "{b_admin_id}", "amount": 5}),
    probe(B_ADMIN, "api", "PATCH", "teams/{team_b}/members/{member_id}", "404", "A's member",
          data={"role": "admin"}),
    probe(B_ADMIN, "api", "DELETE", "teams/{team_b}/members/{member_id}", "404", "A's member"),
    probe(B_ADMIN, "api", "DELETE", "teams/{team_b}/api-keys/{api_key}", "404", "A's key"),
    probe(B_ADMIN, "page", "POST", "/teams/{team_b}/invitations/{invitation}/revoke/", "x200",
          "A's invitation"),
    probe(B_ADMIN, "api", "DELETE", "teams/{team_b}/invite-links/{invite_link}", "404",
          "A's invite link"),
    probe(B_ADMIN, "page", "POST", "/teams/{team_b}/invite-links/{invite_link}/revoke/", "404",
          "A's invite link"),
    probe(B_ADMIN, "page", "POST", "/teams/{team_b}/members/{member_id}/role/", "x200",
          "A's member", data={"role": "admin"}),
    probe(B_ADMIN, "page", "POST", "/teams/{team_b}/members/{member_id}/remove/", "x200",
          "A's member"),
    probe(B_ADMIN, "page", "POST", "/billing/teams/{team_b}/allocate/", "400", "A's member",
          data=ALLOCATE),
    probe(B_ADMIN, "page", "POST", "/billing/teams/{team_b}/reassign/", "400", "from A's member",
          data={**REASSIGN, "reassign-to_user_id": "{b_admin_id}"}),
    probe(B_ADMIN, "api", "GET", B_VERSION, "404", "A's version under B's character"),
    probe(B_ADMIN, "api", "PATCH", B_VERSION, "404", "A's version under B's character",
          data={"version_name": "Mine now"}),
    probe(B_ADMIN, "api", "DELETE", B_VERSION, "404", "A's version under B's character"),
    probe(B_ADMIN, "api", "POST", B_VERSION + "/activate", "404",
          "A's version under B's character"),
    probe(B_ADMIN, "api", "PATCH", "characters/{b_character}", "404", "viewing A's version",
          data={"last_viewed_version": "{v2}"}),
    probe(B_ADMIN, "api", "POST", "characters/{b_character}/versions", "404",
          "regenerating A's version", data={"regenerate_from": "{v1}"}),
    probe(B_ADMIN, "page", "GET", "/" + B_VERSION + "/", "404", "A's version"),
    probe(B_ADMIN, "page", "GET", "/" + B_VERSION + "/progress/", "404", "A's version"),
    probe(B_ADMIN, "page", "POST", "/" + B_VERSION + "/activate/", "404", "A's version"),
    probe(B_ADMIN, "page", "POST", "/" + B_VERSION + "/delete/", "404", "A's version"),
    probe(B_ADMIN, "page", "POST", "/" + B_VERSION + "/regenerate/", "404", "A's version"),
    probe(B_ADMIN, "api", "GET", "characters/projects?team={team}", "200", "A's projects"),
    probe(B_ADMIN, "api", "GET", "headshots?style=corporate", "200", "A's generations"),
    probe(B_ADMIN, "api", "POST", "headshots", "404", "retrying A's generation in B",
          data={"retry_of": "{failed_gen}", "style": "corporate", "team": "{team_b}"}),
    probe(STAFF, "api", "POST", "admin/credits/adjust", "404", "A's member in B",
          data={"team_id": "{team_b}", "user_id": "{member_id}", "amount": 5, "reason": "x"},
          staff_sees_all=True),
    probe(STAFF, "api", "POST", "admin/headshots/{gen}/refund", "400", "B's image",
          data={"reason": "x", "image_ids": ["{b_image}"]}, staff_sees_all=True),
    # Team API keys act as their creator, inside their own team only.
    probe(KEY_B, "api", "GET", "teams/{team}/members", "403", "B's key on A"),
    probe(KEY_B, "api", "GET", "teams/{team}/credits", "403", "B's key on A"),
    probe(KEY_B, "api", "POST", "teams/{team}/credits/allocate", "403", "B's key on A",
          data={"user_id": "{member_id}", "amount": 5}),
    probe(KEY_B, "api", "POST", "headshots", "403", "B's key charging A",
          data=PHOTO, fmt="multipart"),
    probe(KEY_B, "api", "POST", "headshots/estimate", "403", "B's key on A", data=SPEC),
    probe(KEY_B, "api", "GET", "headshots/config?team={team}", "403", "B's key on A"),
    probe(KEY_B, "api", "GET", "headshots", "200", "B's key: only B's own"),
    probe(KEY_B, "api", "GET", "headshots/{gen}", "404", "A's generation"),
    probe(KEY_B, "api", "GET", "headshots/{gen}/export", "404", "A's generation"),
    probe(KEY_B, "api", "GET", "headshots/images/{image}/download", "404", "A's image"),
    probe(KEY_A, "api", "GET", "teams/{team}/credits", "200", "acts as A's admin"),
    probe(KEY_A, "api", "GET", "headshots/{gen}", "404", "A's member's generation"),
    probe(KEY_A, "api", "GET", "headshots/{gen}/export", "404", "A's member's generation"),
    probe(KEY_A, "api", "POST", "teams/{team}/api-keys", "403", "keys never make keys",
          data={"name": "Another"}),
    probe(KEY_A, "api", "DELETE", "teams/{team}/api-keys/{api_key}", "403",
          "keys never revoke keys"),
    probe(KEY_A, "api", "POST", "invite-links/{invite_link_key}/join", "403",
          "keys join no team", capability=True),
    probe(KEY_A, "api", "GET", "characters/projects", "403", "creator-wide lookups refused"),
    probe(KEY_A, "api", "GET", "characters/{character}", "403", "creator-wide lookups refused"),
    probe(KEY_A, "api", "POST", "headshots/{gen}/favorite", "403", "creator-wide lookups"),
    probe(KEY_A, "api", "GET", "credits/history", "403", "creator-wide lookups refused"),
    probe(KEY_A, "api", "GET", "teams/{team_b}/members", "403", "another team"),
    probe(KEY_A, "api", "GET", "admin/metrics", "403", "staff endpoints"),
    probe("key_a_revoked", "api", "GET", "teams/{team}/credits", "401", "revoked key"),
]
# fmt: on

# Routes of others, left to their own tests. Matched by route prefix and the view's module;
# a route whose view is ours can never be excluded (test_every_route_is_in_the_table).
EXCLUDED = [
    (
        "admin/",
        "django.",
        "Django admin's own views (index, login, ModelAdmin list/add/change/"
        "delete/history): AdminSite.admin_view admits active staff only, model permissions do "
        "the rest (tests/staff/test_admin.py, test_permissions.py); our custom staff pages are rows",
    ),
    ("admin/", "djstripe.", "dj-stripe's admin actions, behind the same AdminSite.admin_view"),
    (
        "accounts/",
        "allauth.",
        "django-allauth's sign-in, sign-up, e-mail and password pages: "
        "they act on the signed-in user only (tests/accounts/test_auth.py)",
    ),
    (
        "_allauth/",
        "allauth.",
        "django-allauth's headless API for the mobile app's sign-in "
        "(tests/accounts/test_auth.py, tests/mobile/test_journey.py)",
    ),
    (
        "api/v1/schema/",
        "drf_spectacular.",
        "the OpenAPI description: no tenant data (tests/common/test_schema.py)",
    ),
    ("api/v1/docs/", "drf_spectacular.", "Swagger UI over the schema: no tenant data"),
    (
        "stripe/webhook/",
        "djstripe.",
        "dj-stripe's webhook: no session, Stripe's signature is "
        "the credential (tests/billing/test_webhooks.py)",
    ),
]
OUR_PACKAGES = (
    "common",
    "accounts",
    "teams",
    "credits",
    "billing",
    "headshots",
    "characters",
    "staff",
)


def _case_id(row: Row, actor: str) -> str:
    return f"{row.title()} as {actor} -> {row.expect[actor].token}"


def _cases():
    pairs = [(row, actor) for row in ROWS for actor in ACTORS]
    pairs += [(row, actor) for row in PROBES for actor in row.expect]
    for row, actor in pairs:
        marks = []
        if actor in row.bugs:
            marks.append(pytest.mark.xfail(strict=True, reason=row.bugs[actor]))
        yield pytest.param(row, actor, id=_case_id(row, actor), marks=marks)


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory, face_jpeg):
    """Built once, inside a transaction rolled back after the module; each test runs in a
    savepoint within it, so what an allowed request changes is gone before the next."""
    media = tmp_path_factory.mktemp("access-media")
    storages = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    with override_settings(MEDIA_ROOT=media, STORAGES=storages), django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            cache.clear()
            system_accounts_forget()
            yield build_world(face_jpeg)
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            system_accounts_forget()
            cache.clear()


@pytest.fixture(autouse=True)
def fake_stripe(monkeypatch, world):
    """Stripe as far as checkout needs it: a session is created, and tenant A's pending
    payment's session reads back as paid. Nothing reaches the network."""
    monkeypatch.setattr(stripe, "api_base", "http://127.0.0.1:9")
    monkeypatch.setattr(stripe_gateway, "stripe_secret_key", lambda: "sk_test_access_matrix")
    created = iter(range(1, 1000))

    def session_create(**params):
        return {"id": f"cs_test_new{next(created):04d}", "url": "https://checkout.stripe.test/x"}

    def session_retrieve(*, session_id):
        if session_id != world.ids["session"]:
            raise NotFound("Stripe has no such object.")
        return {
            "id": session_id,
            "payment_status": "paid",
            "amount_total": 2900,
            "currency": "usd",
            "metadata": {
                "app": billing_services.METADATA_APP,
                "team_id": str(world.ids["team"]),
                "package": "starter",
                "credits": "50",
                "user_id": str(world.ids["admin_id"]),
            },
            "payment_intent": None,
        }

    monkeypatch.setattr(stripe_gateway, "checkout_session_create", session_create)
    monkeypatch.setattr(stripe_gateway, "checkout_session_retrieve", session_retrieve)


# --- sending a row -----------------------------------------------------------------------


def _client(row: Row, actor: str, world: World):
    """Pages: a signed-in browser session. API: the mobile app's X-Session-Token, so the
    real authentication classes run (force_authenticate would skip them); a key actor
    sends `Authorization: Api-Key …`."""
    if actor in world.api_keys:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {world.api_keys[actor]}")
        return client
    user = world.users[actor]
    browser = Client()
    if user is not None:
        browser.force_login(user)
    if row.kind == "page":
        return browser
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_X_SESSION_TOKEN=browser.session.session_key)
    return client


def _send(row: Row, client, world: World, ids: dict):
    path = fill(row.path, ids, world)
    data = fill(row.data, ids, world) if row.data is not None else None
    call = getattr(client, row.method.lower())
    if row.kind == "api":
        if row.method == "GET":
            return call(path, **row.headers)
        return call(path, data, format=row.fmt, **row.headers)
    if row.method == "GET":
        return call(path, **row.headers)
    return call(path, data or {}, **row.headers)


def _body(response) -> bytes:
    if getattr(response, "streaming", False):
        # Consuming it closes it the test client's way (a plain close() would fire
        # request_finished and close the database connection inside the transaction).
        return b"".join(response.streaming_content)
    return response.content


def _summary(body: bytes) -> str:
    """What a failure message shows: a page's flash messages, else the body's start."""
    text = body.decode("utf-8", "replace")
    flashes = re.findall(r'class="(?:flash|errorlist)[^"]*"[^>]*>(.*?)</', text, flags=re.S)
    return repr(flashes) if flashes else repr(body[:400])


def _json(response, body: bytes):
    if not response.get("Content-Type", "").startswith("application/json"):
        return None
    return json.loads(body or b"null")


# --- the matrix ----------------------------------------------------------------------------


@pytest.mark.parametrize(("row", "actor"), list(_cases()))
def test_access(world: World, row: Row, actor: str):
    expected = row.expect[actor]
    user = world.users[actor]
    client = _client(row, actor, world)
    before = None if expected.allowed else snapshot()

    response = _send(row, client, world, world.ids)
    body = _body(response)
    where = f"{row.title()} as {actor}: {response.status_code} {_summary(body)}"

    assert response.status_code == expected.status, where
    if expected.redirect:
        assert response["Location"].startswith(expected.redirect), where
    payload = _json(response, body) if row.kind == "api" else None

    if not expected.allowed:
        assert diff(before, snapshot()) == [], f"{where}: a refused request changed data"
        if row.kind == "api" and expected.status >= 400:
            assert set(payload) >= {"detail", "code"}, where
            if expected.status == 404:
                assert payload["code"] == "not_found", where
        if row.refused_json is not None and expected.status < 400:
            assert payload == row.refused_json, where

    outsider = actor not in IN_TEAM_A
    private = not (row.capability or (row.staff_sees_all and actor == "staff"))
    if private:
        text = body.decode("utf-8", "replace") + response.get("Location", "")
        leaked = sorted(m for m in world.markers[actor] if m in text)
        assert not leaked, f"{where}: shows {leaked} to {actor}"
    joins_a = row.capability and expected.allowed  # an invite link's holder joins A
    if row.kind == "page" and outsider and user is not None and not joins_a:
        assert client.session.get("team_id") != world.ids["team"], f"{where}: switched into A"

    refused_outside = not expected.allowed and (outsider or expected.status == 404)
    if row.scoped and private and refused_outside:
        # Existence is not confirmed: the answer for A's objects equals the one for none.
        missing = _send(row, _client(row, actor, world), world, world.missing_ids())
        missing_body = _body(missing)
        assert missing.status_code == response.status_code, (
            f"{where}: a missing object gets {missing.status_code} {missing_body[:300]!r}"
        )
        if row.kind == "api":
            assert _json(missing, missing_body) == payload, f"{where}: differs from missing"


# --- the table covers every route ----------------------------------------------------------


def _all_routes() -> dict[str, Any]:
    """Every URL pattern of the project: full route -> view callback."""
    routes = {}

    def walk(resolver, prefix):
        for pattern in resolver.url_patterns:
            route = URLResolver._join_route(prefix, str(pattern.pattern))
            if isinstance(pattern, URLPattern):
                routes[route] = pattern.callback
            else:
                walk(pattern, route)

    walk(get_resolver(), "")
    return routes


def _api_methods(callback) -> set[str]:
    view = getattr(callback, "cls", None)
    return {
        m.upper()
        for m in view.http_method_names
        if m not in ("options", "head", "trace") and hasattr(view, m)
    }


def _row_route(row: Row) -> str:
    dummy = {name: 1 for name in placeholders(row.path)}
    path = row.path.format_map(dummy).split("?")[0]
    return resolve(path).route


def test_every_route_is_in_the_table():
    routes = _all_routes()
    covered: dict[str, set[str]] = {}
    for row in ROWS:
        covered.setdefault(_row_route(row), set()).add(row.method)

    excluded = {}
    for route, callback in routes.items():
        for prefix, module, reason in EXCLUDED:
            if route.startswith(prefix) and callback.__module__.startswith(module):
                excluded[route] = reason
                break

    ours_excluded = [r for r in excluded if routes[r].__module__.startswith(OUR_PACKAGES)]
    assert not ours_excluded, f"routes of ours must be rows, not exclusions: {ours_excluded}"
    both = sorted(set(covered) & set(excluded))
    assert not both, f"excluded routes that also have rows: {both}"
    uncovered = sorted(set(routes) - set(covered) - set(excluded))
    assert not uncovered, f"routes neither in the access table nor excluded: {uncovered}"
    unknown = sorted(set(covered) - set(routes))
    assert not unknown, f"rows for routes that do not exist: {unknown}"

    for route, methods in covered.items():
        callback = routes[route]
        if getattr(callback, "cls", None) is not None:  # a DRF view: every method it has
            has = _api_methods(callback)
            assert methods == has, (
                f"{route}: rows for {sorted(methods)}, the view has {sorted(has)}"
            )


def test_rows_are_unique_and_bugs_name_real_actors():
    titles = [row.title() for row in ROWS]
    assert len(titles) == len(set(titles)), "two rows share a method, path and label"
    cases = [_case_id(row, actor) for row in PROBES for actor in row.expect]
    assert len(cases) == len(set(cases)), "two probes read the same"
    for row in ROWS + PROBES:
        for actor, reason in row.bugs.items():
            assert actor in row.expect and reason.startswith("BUG"), (row.title(), actor)
