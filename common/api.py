"""Shared API plumbing: the error shape, pagination and small helpers for views."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from common.errors import MAX_ID, ApplicationError
from common.throttling import UserRateThrottle


def _flatten(detail: Any) -> str:
    if isinstance(detail, dict):
        parts = []
        for field, value in detail.items():
            text = _flatten(value)
            parts.append(text if field in ("non_field_errors", "detail") else f"{field}: {text}")
        return " ".join(parts)
    if isinstance(detail, list):
        return " ".join(_flatten(item) for item in detail)
    return str(detail)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Every API error is `{"detail": str, "code": str}` (+ `fields` for bad input)."""
    if isinstance(exc, ApplicationError):
        response = Response({"detail": exc.message, "code": exc.code}, status=exc.status)
        if exc.retry_after is not None:
            response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, DjangoValidationError):
        fields = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(fields)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "detail": _flatten(exc.detail),
            "code": "invalid",
            "fields": exc.detail if isinstance(exc.detail, dict) else {},
        }
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = {"detail": _flatten(detail), "code": str(code)}
    return response


class Pagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    # Django's reason ("That page number is not an integer") rather than "Invalid page.".
    invalid_page_message = "No page {page_number}: {message}."


def paginated(*, request, view, queryset, serializer_class) -> Response:
    """The one way a list endpoint answers: a page of `serializer_class` rows."""
    paginator = Pagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    data = serializer_class(page, many=True, context={"request": request}).data
    return paginator.get_paginated_response(data)


def created(data: Any) -> Response:
    return Response(data, status=status.HTTP_201_CREATED)


def key_team_id(request) -> int | None:
    """The team a team API key acts in (None for a signed-in person): reads made with a key
    see the key creator's objects in that team only."""
    return getattr(request.auth, "team_id", None)


def client_key(request) -> str | None:
    """The client's Idempotency-Key header as sent, or None when there is none. A header
    sent blank is refused: treating it as absent would make every retry a new request."""
    if "Idempotency-Key" not in request.headers:
        return None
    key = request.headers["Idempotency-Key"].strip()
    if not key:
        raise ApplicationError("Idempotency-Key is empty.", code="invalid")
    if len(key) > 100:
        raise ApplicationError("Idempotency-Key is at most 100 characters.", code="invalid")
    return key


def idempotency_key(request) -> str:
    """The client's Idempotency-Key scoped to the user, or a fresh one (a new movement)."""
    key = client_key(request)
    return f"{request.user.id}:{key}" if key else uuid.uuid4().hex


class AmountField(serializers.IntegerField):
    """A positive whole number of credits: refuses floats and booleans, not only non-numbers."""

    def to_internal_value(self, data):
        if isinstance(data, bool | float):
            self.fail("invalid")
        return super().to_internal_value(data)


def amount_field(**kwargs) -> AmountField:
    return AmountField(min_value=1, max_value=1_000_000, **kwargs)


class SubmitThrottle(UserRateThrottle):
    """A tighter per-user limit for calls that start paid work."""

    scope = "submit"


class SubmitThrottledMixin:
    """POSTs of this view also count against the `submit` rate; reads don't."""

    def get_throttles(self):
        throttles = super().get_throttles()
        if self.request.method == "POST":
            throttles.append(SubmitThrottle())
        return throttles


class TextField(serializers.CharField):
    """A string field that refuses numbers and booleans (DRF's CharField turns `1.5` into
    "1.5"): a client that sends a number as a name has a bug worth hearing about."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def choice_filter_field(name: str, choices) -> serializers.ChoiceField:
    """An optional query filter over `choices` whose refusal lists what is allowed."""
    values = [value for value, _label in choices]
    return serializers.ChoiceField(
        choices=choices,
        required=False,
        error_messages={"invalid_choice": f"{name} must be one of: {', '.join(values)}."},
    )


def id_field(**kwargs) -> serializers.IntegerField:
    """An id in a request body: out-of-range numbers are a 400, not a database error."""
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def storable_key(key: str | None, *, limit: int = 100) -> str | None:
    """A client's idempotency key that always fits its column: long keys become a digest."""
    if not key:
        return None
    if len(key) <= limit:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()
