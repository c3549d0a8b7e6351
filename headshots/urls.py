from django.urls import path

from headshots import views

app_name = "headshots"

urlpatterns = [
    path("", views.headshot_gallery, name="gallery"),
    path("new/", views.headshot_new, name="new"),
    path("inspect/", views.headshot_inspect, name="inspect"),
    path("estimate/", views.headshot_estimate, name="estimate"),
    path("<int:generation_id>/", views.headshot_detail, name="detail"),
    path("<int:generation_id>/favorite/", views.headshot_favorite, name="favorite"),
    path("<int:generation_id>/retry/", views.headshot_retry, name="retry"),
    path("<int:generation_id>/delete/", views.headshot_delete, name="delete"),
    path("file/<str:token>/", views.file_serve, name="file"),
    path("shared/<str:token>/", views.shared_image, name="shared"),
    path("team/<int:team_id>/styles/", views.team_styles, name="team-styles"),
]
