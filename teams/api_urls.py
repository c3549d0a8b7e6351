from django.urls import path

from teams import apis

urlpatterns = [
    path("teams", apis.TeamListCreateApi.as_view(), name="api-teams"),
    path("teams/<int:team_id>/members", apis.TeamMembersApi.as_view(), name="api-team-members"),
    path(
        "teams/<int:team_id>/members/<int:user_id>",
        apis.TeamMemberApi.as_view(),
        name="api-team-member",
    ),
    path(
        "teams/<int:team_id>/removals",
        apis.TeamRemovalsApi.as_view(),
        name="api-team-removals",
    ),
    path(
        "teams/<int:team_id>/invitations",
        apis.TeamInvitationsApi.as_view(),
        name="api-team-invitations",
    ),
    path(
        "invitations/<str:key>/accept",
        apis.InvitationAcceptApi.as_view(),
        name="api-invitation-accept",
    ),
    path(
        "teams/<int:team_id>/invite-links",
        apis.TeamInviteLinksApi.as_view(),
        name="api-team-invite-links",
    ),
    path(
        "teams/<int:team_id>/invite-links/<int:link_id>",
        apis.TeamInviteLinkApi.as_view(),
        name="api-team-invite-link",
    ),
    path(
        "invite-links/<str:key>/join", apis.InviteLinkJoinApi.as_view(), name="api-invite-link-join"
    ),
    path("teams/<int:team_id>/credits", apis.TeamCreditsApi.as_view(), name="api-team-credits"),
    path(
        "teams/<int:team_id>/credits/allocate",
        apis.TeamCreditsAllocateApi.as_view(),
        name="api-team-credits-allocate",
    ),
    path(
        "teams/<int:team_id>/credits/auto-distribute",
        apis.TeamCreditsAutoDistributeApi.as_view(),
        name="api-team-credits-auto-distribute",
    ),
    path(
        "teams/<int:team_id>/credits/reassign",
        apis.TeamCreditsReassignApi.as_view(),
        name="api-team-credits-reassign",
    ),
    path("teams/<int:team_id>/api-keys", apis.TeamApiKeysApi.as_view(), name="api-team-api-keys"),
    path(
        "teams/<int:team_id>/api-keys/<int:key_id>",
        apis.TeamApiKeyApi.as_view(),
        name="api-team-api-key",
    ),
]
