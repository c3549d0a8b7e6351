"""fal queue: submit to queue.fal.run/{model}, poll the status URL until COMPLETED,
fetch the response URL, download the image it names."""

from __future__ import annotations

import base64
import time
from typing import Any
from urllib.parse import urlsplit

from ..errors import ProviderError
from ..interface import RenderRequest
from .base import ProviderOutput, RemoteEngine
from .http import HttpClient

_ASPECTS = {"1:1": "1:1", "3:4": "3:4", "4:5": "4:5", "4:3": "4:3", "16:9": "16:9", "9:16": "9:16"}


def _first_image_url(result: dict[str, Any]) -> str | None:
    images = result.get("images")
    if isinstance(images, list) and images and isinstance(images[0], dict):
        return images[0].get("url")
    image = result.get("image")
    if isinstance(image, dict):
        return image.get("url")
    return None


class FalEngine(RemoteEngine):
    name = "fal"
    label = "fal"
    key_field = "fal_key"

    @property
    def model(self) -> str:
        return self.settings.fal_model

    def _same_host(self, url: str) -> bool:
        return urlsplit(url).netloc == urlsplit(self.settings.fal_queue_url).netloc

    def _generate(
        self, request: RenderRequest, image: bytes, prompt: str, negative: str, seed: int
    ) -> ProviderOutput:
        client = HttpClient(
            self.settings,
            provider="fal",
            headers={"Authorization": f"Key {self.settings.fal_key}"},
            **self.client_options,
        )
        base = self.settings.fal_queue_url.rstrip("/")
        model = self.settings.fal_model.strip("/")
        payload = {
            "prompt": prompt,
            "negative_prompt": negative,
            self.settings.fal_image_input: "data:image/png;base64,"
            + base64.b64encode(image).decode(),
            "seed": seed,
            "aspect_ratio": _ASPECTS[request.aspect_ratio],
            "num_images": 1,
            "output_format": "png",
        }
        submitted = client.json("POST", f"{base}/{model}", json_body=payload)
        request_id = submitted.get("request_id")
        if not request_id:
            raise ProviderError("fal: the queue did not return a request_id", code="bad_response")
        status_url = submitted.get("status_url") or f"{base}/{model}/requests/{request_id}/status"
        response_url = submitted.get("response_url") or f"{base}/{model}/requests/{request_id}"
        # Our key goes only to the queue host we were configured with.
        if not (self._same_host(status_url) and self._same_host(response_url)):
            raise ProviderError(
                "fal: status or response URL on an unexpected host", code="bad_response"
            )
        deadline = time.monotonic() + self.settings.poll_timeout
        while True:
            status = client.json("GET", status_url)
            state = status.get("status")
            if state == "COMPLETED":
                if status.get("error"):
                    raise ProviderError(
                        f"fal: request failed: {status['error']}", code="prediction_failed"
                    )
                break
            if state not in ("IN_QUEUE", "IN_PROGRESS"):
                raise ProviderError(f"fal: unexpected status {state!r}", code="bad_response")
            if time.monotonic() > deadline:
                raise ProviderError(
                    f"fal: request {request_id} not finished after {self.settings.poll_timeout:g} s",
                    code="timeout",
                )
            client.sleep(self.settings.poll_interval)
        try:
            result = client.json("GET", response_url)
        except ProviderError as exc:
            if exc.status is not None and 400 <= exc.status < 500 and exc.code != "auth":
                raise ProviderError(
                    f"fal: request failed: {exc.message}",
                    code="prediction_failed",
                    status=exc.status,
                ) from exc
            raise
        url = _first_image_url(result)
        if not url:
            raise ProviderError("fal: the result has no image", code="no_output")
        return ProviderOutput(
            client.download(url), {"request_id": request_id, "seed": result.get("seed")}
        )
