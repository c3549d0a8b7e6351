from django.http import JsonResponse
from django.urls import include, path


def floor(request):
    """The cheapest Django JSON answer: no auth, no database."""
    return JsonResponse({"ok": True})


urlpatterns = [path("floor", floor), path("", include("config.urls"))]
