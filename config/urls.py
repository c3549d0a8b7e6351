from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from common import views as common_views

api_v1 = [
    path("", include("accounts.api_urls")),
    path("", include("teams.api_urls")),
    path("", include("billing.api_urls")),
    path("", include("headshots.api_urls")),
    path("characters/", include("characters.api_urls")),
    path("admin/", include("staff.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

urlpatterns = [
    path("", common_views.home, name="home"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("_allauth/", include("allauth.headless.urls")),
    path("api/v1/", include(api_v1)),
    path("teams/", include("teams.urls")),
    path("billing/", include("billing.urls")),
    path("headshots/", include("headshots.urls")),
    path("characters/", include("characters.urls")),
    path("stripe/", include("djstripe.urls", namespace="djstripe")),
]

handler400 = "common.views.bad_request"
handler403 = "common.views.permission_denied"
handler404 = "common.views.not_found"
handler500 = "common.views.server_error"
