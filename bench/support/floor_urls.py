"""The floors of bench/api_load.py, served by the same gunicorn as the app."""

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.response import Response
from rest_framework.views import APIView


def floor(request):
    """The cheapest Django JSON answer: no auth, no database."""
    return JsonResponse({"ok": True})


def floor_io(request):
    """The least any signed-in read does, with no framework: one cache read (where the
    session lives) and one row by primary key from PostgreSQL. Shows what the I/O alone
    costs on this machine, beside the bare floor that does none."""
    cache.get(request.headers.get("X-Session-Token", "none"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, email FROM accounts_user WHERE id = %s", [1])
        cursor.fetchone()
    return JsonResponse({"ok": True})


@csrf_exempt
def floor_upload(request):
    """The submit floor: receive the same multipart photo and read it, then answer."""
    photo = request.FILES["photo"]
    return JsonResponse({"ok": True, "bytes": len(photo.read())}, status=202)


class FloorApi(APIView):
    """The cheapest authenticated API answer: the API's default authentication (the
    X-Session-Token), permissions and throttles, and no work of its own. What every
    endpoint pays before its first line; shown beside the bare floor."""

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("floor", floor),
    path("floor/io", floor_io),
    path("floor/upload", floor_upload),
    path("floor/api", FloorApi.as_view()),
    path("", include("config.urls")),
]
