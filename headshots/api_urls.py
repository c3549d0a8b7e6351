from django.urls import path

from headshots import apis

urlpatterns = [
    path("headshots/config", apis.HeadshotConfigApi.as_view(), name="api-headshots-config"),
    path("headshots/estimate", apis.HeadshotEstimateApi.as_view(), name="api-headshots-estimate"),
    path("headshots/inspect", apis.HeadshotInspectApi.as_view(), name="api-headshots-inspect"),
    path("headshots/batch", apis.HeadshotBatchApi.as_view(), name="api-headshots-batch"),
    path("headshots/bulk", apis.HeadshotBulkApi.as_view(), name="api-headshots-bulk"),
    path("headshots", apis.HeadshotListSubmitApi.as_view(), name="api-headshots"),
    path("headshots/<int:generation_id>", apis.HeadshotDetailApi.as_view(), name="api-headshot"),
    path(
        "headshots/<int:generation_id>/favorite",
        apis.HeadshotFavoriteApi.as_view(),
        name="api-headshot-favorite",
    ),
    path(
        "headshots/<int:generation_id>/retry",
        apis.HeadshotRetryApi.as_view(),
        name="api-headshot-retry",
    ),
    path(
        "headshots/<int:generation_id>/export",
        apis.HeadshotExportApi.as_view(),
        name="api-headshot-export",
    ),
    path(
        "headshots/images/<int:image_id>/download",
        apis.ImageDownloadApi.as_view(),
        name="api-headshot-image-download",
    ),
    path(
        "headshots/images/<int:image_id>/favorite",
        apis.ImageFavoriteApi.as_view(),
        name="api-headshot-image-favorite",
    ),
    path(
        "headshots/images/<int:image_id>/share",
        apis.ImageShareApi.as_view(),
        name="api-headshot-image-share",
    ),
]
