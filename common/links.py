"""Absolute links for e-mails and shareable URLs: always on the configured site address."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse


def site_url(name: str, *args) -> str:
    """The absolute URL of the named route on SITE_URL (not on whatever host a request came
    in on: e-mails and copied links must point at the site people know)."""
    return settings.SITE_URL.rstrip("/") + reverse(name, args=args)
