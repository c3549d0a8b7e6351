"""One HTTP client for every provider: timeouts on every call, retries with
exponential backoff on 429 and 5xx (honouring Retry-After, capped), and a
ProviderError with a code for everything else.

A POST that timed out waiting for the answer is not retried: the provider may have
started the (paid) job. Connection failures are retried: nothing was sent.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import requests

from ..errors import ProviderError
from ..settings import ProviderSettings

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def error_message(response: requests.Response) -> str:
    """The provider's own words, from the common JSON error shapes."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:300] or response.reason or f"HTTP {response.status_code}"
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str) and error:
            return error
        for key in ("detail", "message", "title"):
            if body.get(key):
                detail = body[key]
                return detail if isinstance(detail, str) else json.dumps(detail)[:300]
        if isinstance(body.get("errors"), list) and body["errors"]:
            return "; ".join(str(item) for item in body["errors"])[:300]
    return json.dumps(body)[:300]


def _code_for_status(status: int) -> str:
    if status in (401, 403):
        return "auth"
    if status == 402:
        return "payment_required"
    if status == 404:
        return "not_found"
    if status == 413:
        return "too_large"
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "server_error"
    return "rejected"


class HttpClient:
    def __init__(
        self,
        settings: ProviderSettings,
        *,
        provider: str,
        headers: Mapping[str, str] | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.provider = provider
        self.session = session or requests.Session()
        self.session.headers.update(headers or {})
        self.sleep = sleep

    def _delay(self, attempt: int, response: requests.Response | None) -> float:
        if response is not None:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if retry_after is not None:
                return min(retry_after, self.settings.retry_after_cap)
        return min(self.settings.backoff_base * (2**attempt), self.settings.backoff_max)

    def request(
        self,
        method: str,
        url: str,
        *,
        json_body: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        ok_statuses: tuple[int, ...] = (200, 201, 202),
    ) -> requests.Response:
        idempotent = method.upper() in ("GET", "HEAD")
        attempts = self.settings.max_retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self.session.request(
                    method,
                    url,
                    json=json_body,
                    data=data,
                    files=files,
                    headers=dict(headers or {}),
                    timeout=self.settings.timeouts(),
                )
            except requests.ConnectTimeout as exc:
                if last:
                    raise ProviderError(
                        f"{self.provider}: could not connect ({exc.__class__.__name__})",
                        code="unreachable",
                    ) from exc
                self.sleep(self._delay(attempt, None))
                continue
            except requests.Timeout as exc:
                if last or not idempotent:
                    raise ProviderError(
                        f"{self.provider}: no answer within {self.settings.read_timeout:g} s",
                        code="timeout",
                    ) from exc
                self.sleep(self._delay(attempt, None))
                continue
            except requests.ConnectionError as exc:
                if last:
                    raise ProviderError(
                        f"{self.provider}: connection failed ({exc.__class__.__name__})",
                        code="unreachable",
                    ) from exc
                self.sleep(self._delay(attempt, None))
                continue
            if response.status_code in ok_statuses:
                return response
            if response.status_code in RETRY_STATUSES and not last:
                self.sleep(self._delay(attempt, response))
                continue
            raise ProviderError(
                f"{self.provider}: {error_message(response)} (HTTP {response.status_code})",
                code=_code_for_status(response.status_code),
                status=response.status_code,
            )
        raise AssertionError("unreachable")  # pragma: no cover - the loop always returns or raises

    def json(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        response = self.request(method, url, **kwargs)
        return parse_json(response, self.provider)

    def download(self, url: str) -> bytes:
        """Fetch a result file (provider CDNs need no auth header; we send none).
        Data URIs (some models answer inline) are decoded instead."""
        if url.startswith("data:"):
            header, _, payload = url.partition(",")
            try:
                return base64.b64decode(payload) if ";base64" in header else payload.encode()
            except (binascii.Error, ValueError) as exc:
                raise ProviderError(f"{self.provider}: bad data URI", code="bad_response") from exc
        if not url.startswith(("http://", "https://")):
            raise ProviderError(f"{self.provider}: unexpected result URL", code="bad_response")
        response = self.request("GET", url, headers={"Authorization": None})  # type: ignore[dict-item]
        data = response.content
        if len(data) > self.settings.max_download_bytes:
            raise ProviderError(f"{self.provider}: result file is too large", code="too_large")
        return data


def parse_json(response: requests.Response, provider: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise ProviderError(
            f"{provider}: the answer was not valid JSON",
            code="bad_response",
            status=response.status_code,
        ) from exc
    if not isinstance(body, dict):
        raise ProviderError(f"{provider}: unexpected answer shape", code="bad_response")
    return body
