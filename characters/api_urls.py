from django.urls import path

from characters import apis

urlpatterns = [
    path("config", apis.CharacterConfigApi.as_view(), name="api-characters-config"),
    path("estimate", apis.CharacterEstimateApi.as_view(), name="api-characters-estimate"),
    path("projects", apis.ProjectListCreateApi.as_view(), name="api-characters-projects"),
    path(
        "projects/<int:project_id>",
        apis.ProjectDetailApi.as_view(),
        name="api-characters-project",
    ),
    path(
        "projects/<int:project_id>/characters",
        apis.CharacterListCreateApi.as_view(),
        name="api-characters-project-characters",
    ),
    path("<int:character_id>", apis.CharacterDetailApi.as_view(), name="api-character"),
    path(
        "<int:character_id>/versions",
        apis.VersionListGenerateApi.as_view(),
        name="api-character-versions",
    ),
    path(
        "<int:character_id>/versions/<int:version_id>",
        apis.VersionDetailApi.as_view(),
        name="api-character-version",
    ),
    path(
        "<int:character_id>/versions/<int:version_id>/activate",
        apis.VersionActivateApi.as_view(),
        name="api-character-version-activate",
    ),
]
