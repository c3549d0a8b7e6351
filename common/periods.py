"""Time spans as ORM filters: what a report that reads several apps' rows by time passes
to each app's selectors."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db.models import Q

Spans = Sequence[tuple[datetime, datetime]]


def within(spans: Spans, field_name: str) -> Q:
    """Rows whose `field_name` falls in one of the [since, until) spans."""
    matched = Q()
    for since, until in spans:
        matched |= Q(**{f"{field_name}__gte": since, f"{field_name}__lt": until})
    return matched
