from django.urls import path

from staff import apis

urlpatterns = [
    path(
        "headshots/<int:generation_id>/refund",
        apis.StaffHeadshotRefundApi.as_view(),
        name="api-admin-headshot-refund",
    ),
    path("credits/adjust", apis.StaffCreditsAdjustApi.as_view(), name="api-admin-credits-adjust"),
    path("metrics", apis.StaffMetricsApi.as_view(), name="api-admin-metrics"),
]
