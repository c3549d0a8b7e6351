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
