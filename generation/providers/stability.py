"""Stability image-to-image: one multipart POST to v2beta/stable-image/generate/sd3
with mode=image-to-image and a strength. We ask for JSON (base64 image, finish reason
and seed) so a content-filtered result is told apart from a real one."""

from __future__ import annotations

import base64
import binascii

from ..errors import ProviderError
from ..interface import RenderRequest
from .base import ProviderOutput, RemoteEngine
from .http import HttpClient


class StabilityEngine(RemoteEngine):
    name = "stability"
    label = "Stability"
    key_field = "stability_api_key"

    @property
    def model(self) -> str:
        return self.settings.stability_model

    def _generate(
        self, request: RenderRequest, image: bytes, prompt: str, negative: str, seed: int
    ) -> ProviderOutput:
        client = HttpClient(
            self.settings,
            provider="stability",
            headers={
                "Authorization": f"Bearer {self.settings.stability_api_key}",
                "Accept": "application/json",
            },
            **self.client_options,
        )
        url = f"{self.settings.stability_base_url.rstrip('/')}/v2beta/stable-image/generate/sd3"
        fields = {
            "prompt": prompt,
            "negative_prompt": negative,
            "mode": "image-to-image",
            "strength": f"{self.settings.stability_strength:g}",
            "model": self.settings.stability_model,
            "seed": str(seed % 4294967295),
            "output_format": "png",
        }
        files = {"image": ("photo.png", image, "image/png")}
        response = client.request("POST", url, data=fields, files=files)
        content_type = response.headers.get("Content-Type", "")
        if content_type.startswith("image/"):
            # Accept: image/* answers: the picture itself, the rest in headers.
            reason = response.headers.get("finish-reason", "SUCCESS")
            data = response.content
            seed_used = response.headers.get("seed")
        else:
            from .http import parse_json

            body = parse_json(response, "stability")
            reason = str(body.get("finish_reason", "SUCCESS"))
            seed_used = body.get("seed")
            try:
                data = base64.b64decode(body.get("image") or "", validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ProviderError(
                    "stability: the image is not valid base64", code="bad_response"
                ) from exc
        if reason == "CONTENT_FILTERED":
            raise ProviderError(
                "stability: the result was blocked by the content filter", code="content_filtered"
            )
        if reason != "SUCCESS" or not data:
            raise ProviderError(
                f"stability: generation ended with {reason}", code="prediction_failed"
            )
        return ProviderOutput(data, {"finish_reason": reason, "seed": seed_used})
