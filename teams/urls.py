from django.urls import path

from teams import views

app_name = "teams"

urlpatterns = [
    path("", views.team_list, name="list"),
    path("switch/", views.team_switch, name="switch"),
    path("<int:team_id>/", views.team_detail, name="detail"),
    path("<int:team_id>/invite/", views.team_invite, name="invite"),
    path(
        "<int:team_id>/invitations/<int:invitation_id>/revoke/",
        views.team_invitation_revoke,
        name="invitation-revoke",
    ),
    path("<int:team_id>/invite-links/", views.team_invite_link_create, name="invite-link-create"),
    path(
        "<int:team_id>/invite-links/<int:link_id>/revoke/",
        views.team_invite_link_revoke,
        name="invite-link-revoke",
    ),
    path("<int:team_id>/members/<int:user_id>/role/", views.team_member_role, name="member-role"),
    path(
        "<int:team_id>/members/<int:user_id>/remove/",
        views.team_member_remove,
        name="member-remove",
    ),
    path("invitations/<str:key>/", views.invitation, name="invitation"),
    path("join/<str:key>/", views.join, name="join"),
]
