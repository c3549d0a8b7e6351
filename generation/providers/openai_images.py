"""OpenAI images edit: one multipart POST to /v1/images/edits with the photo and the
prompt; gpt-image-1 answers with base64 image data."""

from __future__ import annotations

import base64
import binascii

from ..errors import ProviderError
from ..interface import RenderRequest
from .base import ProviderOutput, RemoteEngine
from .http import HttpClient

# gpt-image-1 supports these sizes; pick the one nearest the requested shape.
_SIZES = {"square": "1024x1024", "portrait": "1024x1536", "landscape": "1536x1024"}


def openai_size(aspect_ratio: str) -> str:
    width, height = (int(part) for part in aspect_ratio.split(":"))
    if width == height:
        return _SIZES["square"]
    return _SIZES["portrait"] if height > width else _SIZES["landscape"]


class OpenAIImagesEngine(RemoteEngine):
    name = "openai"
    label = "OpenAI images"
    key_field = "openai_api_key"

    @property
    def model(self) -> str:
        return self.settings.openai_model

    def _generate(
        self, request: RenderRequest, image: bytes, prompt: str, negative: str, seed: int
    ) -> ProviderOutput:
        client = HttpClient(
            self.settings,
            provider="openai",
            headers={"Authorization": f"Bearer {self.settings.openai_api_key}"},
            **self.client_options,
        )
        url = f"{self.settings.openai_base_url.rstrip('/')}/v1/images/edits"
        # The edits endpoint has no negative prompt or seed: say what to avoid in words.
        full_prompt = f"{prompt}. Avoid: {negative}." if negative else prompt
        fields = {
            "model": self.settings.openai_model,
            "prompt": full_prompt,
            "n": "1",
            "size": openai_size(request.aspect_ratio),
            "quality": self.settings.openai_quality,
            "input_fidelity": "high",  # keep the face close to the photo
        }
        files = {"image": ("photo.png", image, "image/png")}
        body = client.json("POST", url, data=fields, files=files)
        items = body.get("data")
        if not isinstance(items, list) or not items or not isinstance(items[0], dict):
            raise ProviderError("openai: the answer has no image data", code="bad_response")
        encoded = items[0].get("b64_json")
        if not encoded:
            raise ProviderError("openai: the answer has no b64_json image", code="bad_response")
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ProviderError(
                "openai: the image data is not valid base64", code="bad_response"
            ) from exc
        return ProviderOutput(data, {"created": body.get("created"), "usage": body.get("usage")})
