"""Replicate predictions: create (official model endpoint or a version), optionally
wait synchronously (Prefer: wait), poll until a terminal status, download the output.
Also the webhook side: verify the signature and parse the body."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

from ..errors import ProviderError
from ..interface import RenderRequest
from .base import ProviderOutput, RemoteEngine
from .http import HttpClient

TERMINAL = frozenset({"succeeded", "failed", "canceled"})
WEBHOOK_TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class ReplicatePrediction:
    id: str
    status: str
    output_urls: list[str] = field(default_factory=list)
    error: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    get_url: str | None = None

    @property
    def done(self) -> bool:
        return self.status in TERMINAL


def _output_urls(output: Any) -> list[str]:
    if output is None:
        return []
    if isinstance(output, str):
        return [output]
    if isinstance(output, list):
        return [url for item in output for url in _output_urls(item)]
    if isinstance(output, dict):
        for key in ("image", "images", "output", "url"):
            if key in output:
                return _output_urls(output[key])
    return []


def prediction_from_json(body: dict[str, Any]) -> ReplicatePrediction:
    if not isinstance(body, dict) or "id" not in body or "status" not in body:
        raise ProviderError("replicate: a prediction needs an id and a status", code="bad_response")
    urls = body.get("urls") or {}
    return ReplicatePrediction(
        id=str(body["id"]),
        status=str(body["status"]),
        output_urls=_output_urls(body.get("output")),
        error=(str(body["error"]) if body.get("error") else None),
        metrics=dict(body.get("metrics") or {}),
        get_url=urls.get("get") if isinstance(urls, dict) else None,
    )


def parse_replicate_webhook(body: bytes | str | dict[str, Any]) -> ReplicatePrediction:
    """A webhook POST body is the prediction object itself."""
    if isinstance(body, dict):
        return prediction_from_json(body)
    try:
        data = json.loads(body)
    except (ValueError, TypeError) as exc:
        raise ProviderError("replicate: webhook body is not JSON", code="bad_response") from exc
    return prediction_from_json(data)


def verify_replicate_webhook(
    headers: dict[str, str], body: bytes, secret: str, *, now: float | None = None
) -> bool:
    """Check a webhook's signature (Standard Webhooks scheme: HMAC-SHA256 over
    "id.timestamp.body" with the base64 key after "whsec_"), and its age."""
    lower = {key.lower(): value for key, value in headers.items()}
    webhook_id = lower.get("webhook-id")
    timestamp = lower.get("webhook-timestamp")
    signatures = lower.get("webhook-signature")
    if not (webhook_id and timestamp and signatures and secret):
        return False
    try:
        sent = int(timestamp)
        key = base64.b64decode(secret.removeprefix("whsec_"))
    except ValueError:
        return False
    if abs((now if now is not None else time.time()) - sent) > WEBHOOK_TOLERANCE_SECONDS:
        return False
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for candidate in signatures.split():
        _, _, value = candidate.partition(",")
        if hmac.compare_digest(value, expected):
            return True
    return False


class ReplicateEngine(RemoteEngine):
    name = "replicate"
    label = "Replicate"
    key_field = "replicate_api_token"

    @property
    def model(self) -> str:
        return self.settings.replicate_version or self.settings.replicate_model

    def _client(self) -> HttpClient:
        return HttpClient(
            self.settings,
            provider="replicate",
            headers={"Authorization": f"Bearer {self.settings.replicate_api_token}"},
            **self.client_options,
        )

    def create_prediction(self, client: HttpClient, inputs: dict[str, Any]) -> ReplicatePrediction:
        base = self.settings.replicate_base_url.rstrip("/")
        body: dict[str, Any] = {"input": inputs}
        if self.settings.replicate_webhook_url:
            body["webhook"] = self.settings.replicate_webhook_url
            body["webhook_events_filter"] = ["completed"]
        if self.settings.replicate_version:
            body["version"] = self.settings.replicate_version
            url = f"{base}/v1/predictions"
        else:
            url = f"{base}/v1/models/{self.settings.replicate_model}/predictions"
        headers = {"Content-Type": "application/json"}
        if self.settings.replicate_wait_seconds > 0:
            headers["Prefer"] = f"wait={min(60, self.settings.replicate_wait_seconds)}"
        return prediction_from_json(client.json("POST", url, json_body=body, headers=headers))

    def wait(self, client: HttpClient, prediction: ReplicatePrediction) -> ReplicatePrediction:
        base = self.settings.replicate_base_url.rstrip("/")
        deadline = time.monotonic() + self.settings.poll_timeout
        while not prediction.done:
            if time.monotonic() > deadline:
                raise ProviderError(
                    f"replicate: prediction {prediction.id} not finished after "
                    f"{self.settings.poll_timeout:g} s",
                    code="timeout",
                )
            client.sleep(self.settings.poll_interval)
            # Always our configured host: never follow a URL from the body with our token.
            prediction = prediction_from_json(
                client.json("GET", f"{base}/v1/predictions/{prediction.id}")
            )
        return prediction

    def _generate(
        self, request: RenderRequest, image: bytes, prompt: str, negative: str, seed: int
    ) -> ProviderOutput:
        data_uri = "data:image/png;base64," + base64.b64encode(image).decode()
        inputs = {
            self.settings.replicate_image_input: data_uri,
            "prompt": prompt,
            "negative_prompt": negative,
            "seed": seed,
            "aspect_ratio": request.aspect_ratio,
            "output_format": "png",
        }
        client = self._client()
        prediction = self.wait(client, self.create_prediction(client, inputs))
        if prediction.status != "succeeded":
            raise ProviderError(
                f"replicate: prediction {prediction.id} {prediction.status}: "
                f"{prediction.error or 'no reason given'}",
                code="prediction_failed" if prediction.status == "failed" else "canceled",
            )
        if not prediction.output_urls:
            raise ProviderError("replicate: the prediction has no output", code="no_output")
        return ProviderOutput(
            client.download(prediction.output_urls[0]),
            {"prediction_id": prediction.id, "metrics": prediction.metrics},
        )
