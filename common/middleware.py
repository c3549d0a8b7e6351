from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from common.errors import ApplicationError


class ApplicationErrorMiddleware:
    """Pages: a rule's refusal becomes a friendly page with its status (APIs map it themselves)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, ApplicationError):
            return None
        if exception.status == 404:
            return render(request, "404.html", status=404)
        return render(request, "error.html", {"error": exception}, status=exception.status)


class ContentSecurityPolicyMiddleware:
    """CSP for our pages: scripts and styles from this site only (plus inline style
    attributes), images also from signed storage URLs, never framed. Django admin and the
    API docs bring their own inline scripts and are left to their own headers."""

    POLICY = "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob: https:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "frame-ancestors 'none'",
        ]
    )
    EXEMPT = ("/admin/", "/api/v1/docs/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if content_type.startswith("text/html") and not request.path.startswith(self.EXEMPT):
            response.setdefault("Content-Security-Policy", self.POLICY)
        return response


class RejectNullBytesMiddleware:
    """A NUL anywhere a client types (the path, the query string, a form field) is a 400
    before any view runs: PostgreSQL refuses NUL in text, so a lookup or a save of such a
    value (an invitation key, a package slug) would otherwise be a 500. JSON bodies are left
    to the serializer fields, which refuse NUL themselves."""

    ADDRESS_MESSAGE = "The address contains a null character."
    FORM_MESSAGE = "The form contains a null character."
    FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        message = self._refusal(request)
        if message is None:
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message, "code": "invalid"}, status=400)
        error = ApplicationError(message, code="invalid", status=400)
        return render(request, "error.html", {"error": error}, status=400)

    def _refusal(self, request: HttpRequest) -> str | None:
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            return self.ADDRESS_MESSAGE
        if request.method == "POST" and request.content_type in self.FORM_TYPES:
            # Django parses the body once; the view (or DRF) reads the same parsed copy.
            # (Upload file names need no check: Django drops unprintable characters.)
            texts = [key for key in request.POST] + [
                value for _, values in request.POST.lists() for value in values
            ]
            if any("\x00" in text for text in texts):
                return self.FORM_MESSAGE
        return None
