from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from accounts import selectors as accounts_selectors


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "home.html")
    summary = accounts_selectors.user_summary(user=request.user)
    return render(request, "dashboard.html", {"summary": summary})


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(("/api/", "/_allauth/"))


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    """Requests Django refuses before any view runs (too large, malformed)."""
    if _wants_json(request):
        return JsonResponse(
            {"detail": "The request was malformed or too large.", "code": "bad_request"}, status=400
        )
    return render(
        request, "error.html", {"error": {"message": "That request could not be read."}}, status=400
    )


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            {"detail": "You do not have permission to do this.", "code": "permission_denied"},
            status=403,
        )
    return render(
        request,
        "error.html",
        {"error": {"message": "You do not have permission to do this."}},
        status=403,
    )


def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            {
                "detail": "Something went wrong on our side. Please try again.",
                "code": "server_error",
            },
            status=500,
        )
    return render(request, "500.html", status=500)
