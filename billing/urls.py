from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("success/", views.checkout_success, name="success"),
    path("teams/<int:team_id>/", views.team_credits, name="team"),
    path("teams/<int:team_id>/allocate/", views.team_credits_allocate, name="allocate"),
    path("teams/<int:team_id>/reassign/", views.team_credits_reassign, name="reassign"),
    path("teams/<int:team_id>/distribute/", views.team_credits_distribute, name="distribute"),
    path("teams/<int:team_id>/log/", views.team_credits_log, name="log"),
    path("teams/<int:team_id>/quote/", views.team_credits_quote, name="quote"),
    path("teams/<int:team_id>/checkout/", views.team_credits_checkout, name="checkout"),
]
