from django.urls import path

from characters import views

app_name = "characters"

urlpatterns = [
    path("", views.project_list, name="projects"),
    path("projects/<int:project_id>/", views.project_detail, name="project"),
    path("projects/<int:project_id>/delete/", views.project_delete, name="project-delete"),
    path("<int:character_id>/", views.studio, name="studio"),
    path("<int:character_id>/edit/", views.character_edit, name="edit"),
    path("<int:character_id>/delete/", views.character_delete, name="delete"),
    path("<int:character_id>/estimate/", views.estimate, name="estimate"),
    path("<int:character_id>/generate/", views.generate, name="generate"),
    path("<int:character_id>/versions/<int:version_id>/", views.version_show, name="version"),
    path(
        "<int:character_id>/versions/<int:version_id>/progress/",
        views.version_progress,
        name="version-progress",
    ),
    path(
        "<int:character_id>/versions/<int:version_id>/activate/",
        views.version_activate,
        name="version-activate",
    ),
    path(
        "<int:character_id>/versions/<int:version_id>/rename/",
        views.version_rename,
        name="version-rename",
    ),
    path(
        "<int:character_id>/versions/<int:version_id>/delete/",
        views.version_delete,
        name="version-delete",
    ),
    path(
        "<int:character_id>/versions/<int:version_id>/regenerate/",
        views.version_regenerate,
        name="version-regenerate",
    ),
]
