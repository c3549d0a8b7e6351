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
    """A NUL in the path or the query string is a 400 before any view runs: PostgreSQL
    refuses NUL in text, so any lookup by such a value (an invitation key, a search) would
    otherwise be a 500. Bodies are covered by the form and serializer fields, which refuse
    NUL themselves."""

    MESSAGE = "The address contains a null character."

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": self.MESSAGE, "code": "invalid"}, status=400)
            error = ApplicationError(self.MESSAGE, code="invalid", status=400)
            return render(request, "error.html", {"error": error}, status=400)
        return self.get_response(request)
