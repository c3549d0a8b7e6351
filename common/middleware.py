from django.http import HttpRequest, HttpResponse
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
