"""Remote engines against a local server speaking each provider's documented shapes,
including the faults: timeouts, 500s, 429 with Retry-After, malformed JSON, failures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json

import numpy as np
import pytest
from PIL import Image

from generation import ProviderError, ProviderSettings, RenderRequest, style_by_slug
from generation.errors import EngineUnavailable
from generation.imaging import encode_image
from generation.providers import (
    FalEngine,
    OpenAIImagesEngine,
    ReplicateEngine,
    StabilityEngine,
    parse_replicate_webhook,
    verify_replicate_webhook,
)
from tests.generation.fake_providers import FakeProvider, Reply

MODEL_PATH = "/v1/models/black-forest-labs/flux-kontext-pro/predictions"


def _result_png() -> bytes:
    ramp = np.zeros((300, 240, 3), np.uint8)
    ramp[..., 0] = np.linspace(0, 255, 240)[None, :]
    return encode_image(ramp, "png")


RESULT_PNG = _result_png()


@pytest.fixture
def server():
    with FakeProvider() as fake:
        yield fake


def _settings(server: FakeProvider, **overrides) -> ProviderSettings:
    values = dict(
        replicate_api_token="r8_token",
        replicate_base_url=server.url,
        openai_api_key="sk-test",
        openai_base_url=server.url,
        stability_api_key="sk-stab",
        stability_base_url=server.url,
        fal_key="fal-key",
        fal_queue_url=server.url,
        connect_timeout=1.0,
        read_timeout=2.0,
        max_retries=3,
        backoff_base=0.01,
        poll_interval=0.0,
        poll_timeout=5.0,
        retry_after_cap=5.0,
    )
    values.update(overrides)
    return ProviderSettings(**values)


def _request(source: bytes, **kwargs) -> RenderRequest:
    return RenderRequest(source=source, style=style_by_slug("corporate"), seed=7, **kwargs)


def _prediction(server: FakeProvider, status: str, **extra) -> dict:
    return {
        "id": "p1",
        "status": status,
        "urls": {
            "get": f"{server.url}/v1/predictions/p1",
            "cancel": f"{server.url}/v1/predictions/p1/cancel",
        },
        **extra,
    }


def _replicate_success(server: FakeProvider) -> None:
    server.on("POST", MODEL_PATH, Reply(201, _prediction(server, "starting")))
    server.on(
        "GET",
        "/v1/predictions/p1",
        Reply(200, _prediction(server, "processing")),
        Reply(
            200,
            _prediction(
                server,
                "succeeded",
                output=[f"{server.url}/files/out.png"],
                metrics={"predict_time": 2.1},
            ),
        ),
    )
    server.on("GET", "/files/out.png", Reply(200, RESULT_PNG, {"Content-Type": "image/png"}))


# Replicate ---------------------------------------------------------------------------


def test_replicate_creates_polls_and_downloads(server: FakeProvider, astronaut_png: bytes) -> None:
    _replicate_success(server)
    engine = ReplicateEngine(_settings(server), sleep=lambda s: None)
    [image] = engine.render(_request(astronaut_png, aspect_ratio="4:5", output_format="webp"))
    assert (image.width, image.height) == (819, 1024)
    assert Image.open(io.BytesIO(image.data)).format == "WEBP"
    assert image.engine == "replicate"
    assert image.metadata["provider"]["prediction_id"] == "p1"
    assert image.metadata["generative"] is True
    assert len(server.received("GET", "/v1/predictions/p1")) == 2


def test_replicate_request_carries_token_prompt_and_photo(
    server: FakeProvider, astronaut_png: bytes
) -> None:
    _replicate_success(server)
    ReplicateEngine(_settings(server), sleep=lambda s: None).render(_request(astronaut_png))
    [create] = server.received("POST", MODEL_PATH)
    assert create.headers["authorization"] == "Bearer r8_token"
    body = create.json()
    assert body["input"]["input_image"].startswith("data:image/png;base64,")
    assert "corporate headshot" in body["input"]["prompt"].lower()
    assert body["input"]["seed"] == 7
    downloaded = server.received("GET", "/files/out.png")[0]
    assert "authorization" not in downloaded.headers  # our token never goes to the file host


def test_replicate_version_mode_and_prefer_wait(server: FakeProvider, astronaut_png: bytes) -> None:
    server.on(
        "POST",
        "/v1/predictions",
        Reply(201, _prediction(server, "succeeded", output=f"{server.url}/files/out.png")),
    )
    server.on("GET", "/files/out.png", Reply(200, RESULT_PNG))
    settings = _settings(
        server,
        replicate_version="abc123",
        replicate_wait_seconds=30,
        replicate_webhook_url="https://app.example/hook",
    )
    ReplicateEngine(settings, sleep=lambda s: None).render(_request(astronaut_png))
    [create] = server.received("POST", "/v1/predictions")
    assert create.json()["version"] == "abc123"
    assert create.json()["webhook"] == "https://app.example/hook"
    assert create.headers["prefer"] == "wait=30"


def test_replicate_retries_500s_then_succeeds(server: FakeProvider, astronaut_png: bytes) -> None:
    _replicate_success(server)
    server.on(
        "POST",
        MODEL_PATH,
        Reply(500, {"detail": "boom"}),
        Reply(502, "bad gateway"),
        Reply(201, _prediction(server, "starting")),
    )
    sleeps: list[float] = []
    ReplicateEngine(_settings(server), sleep=sleeps.append).render(_request(astronaut_png))
    assert len(server.received("POST", MODEL_PATH)) == 3
    assert sleeps[:2] == [pytest.approx(0.01), pytest.approx(0.02)]  # exponential backoff


def test_replicate_honours_retry_after_on_429(server: FakeProvider, astronaut_png: bytes) -> None:
    _replicate_success(server)
    server.on(
        "POST",
        MODEL_PATH,
        Reply(429, {"detail": "slow down"}, {"Retry-After": "3"}),
        Reply(429, {"detail": "slow down"}, {"Retry-After": "120"}),
        Reply(201, _prediction(server, "starting")),
    )
    sleeps: list[float] = []
    ReplicateEngine(_settings(server), sleep=sleeps.append).render(_request(astronaut_png))
    assert sleeps[:2] == [3.0, 5.0]  # the second is capped at retry_after_cap


def test_replicate_gives_up_after_retries_with_a_code(
    server: FakeProvider, astronaut_png: bytes
) -> None:
    server.on("POST", MODEL_PATH, Reply(503, {"detail": "overloaded"}))
    with pytest.raises(ProviderError) as caught:
        ReplicateEngine(_settings(server, max_retries=2), sleep=lambda s: None).render(
            _request(astronaut_png)
        )
    assert caught.value.code == "server_error" and caught.value.status == 503
    assert "overloaded" in caught.value.message
    assert len(server.received("POST", MODEL_PATH)) == 3


def test_replicate_failed_prediction_is_a_clear_error(
    server: FakeProvider, astronaut_png: bytes
) -> None:
    server.on("POST", MODEL_PATH, Reply(201, _prediction(server, "starting")))
    server.on(
        "GET",
        "/v1/predictions/p1",
        Reply(200, _prediction(server, "failed", error="NSFW content detected")),
    )
    with pytest.raises(ProviderError) as caught:
        ReplicateEngine(_settings(server), sleep=lambda s: None).render(_request(astronaut_png))
    assert caught.value.code == "prediction_failed"
    assert "NSFW content detected" in caught.value.message


def test_replicate_malformed_json_is_a_bad_response(
    server: FakeProvider, astronaut_png: bytes
) -> None:
    server.on("POST", MODEL_PATH, Reply(201, "{not json", {"Content-Type": "application/json"}))
    with pytest.raises(ProviderError) as caught:
        ReplicateEngine(_settings(server), sleep=lambda s: None).render(_request(astronaut_png))
    assert caught.value.code == "bad_response"


def test_a_post_that_times_out_is_not_retried(server: FakeProvider, astronaut_png: bytes) -> None:
    server.on("POST", MODEL_PATH, Reply(201, _prediction(server, "starting"), delay=1.0))
    engine = ReplicateEngine(_settings(server, read_timeout=0.2), sleep=lambda s: None)
    with pytest.raises(ProviderError) as caught:
        engine.render(_request(astronaut_png))
    assert caught.value.code == "timeout"
    assert len(server.received("POST", MODEL_PATH)) == 1  # a paid job may have started


def test_a_poll_that_times_out_is_retried(server: FakeProvider, astronaut_png: bytes) -> None:
    _replicate_success(server)
    server.on(
        "GET",
        "/v1/predictions/p1",
        Reply(200, _prediction(server, "processing"), delay=1.0),
        Reply(200, _prediction(server, "succeeded", output=f"{server.url}/files/out.png")),
    )
    [image] = ReplicateEngine(_settings(server, read_timeout=0.3), sleep=lambda s: None).render(
        _request(astronaut_png)
    )
    assert image.width == 1024


def test_replicate_prediction_that_never_finishes_times_out(
    server: FakeProvider, astronaut_png: bytes
) -> None:
    server.on("POST", MODEL_PATH, Reply(201, _prediction(server, "starting")))
    server.on("GET", "/v1/predictions/p1", Reply(200, _prediction(server, "processing")))
    engine = ReplicateEngine(_settings(server, poll_timeout=0.2, poll_interval=0.05))
    with pytest.raises(ProviderError) as caught:
        engine.render(_request(astronaut_png))
    assert caught.value.code == "timeout"


def test_replicate_webhook_body_is_parsed() -> None:
    body = json.dumps(
        {
            "id": "p9",
            "status": "succeeded",
            "output": ["https://x/out.png"],
            "metrics": {"predict_time": 1.5},
        }
    )
    prediction = parse_replicate_webhook(body.encode())
    assert (prediction.id, prediction.status, prediction.output_urls) == (
        "p9",
        "succeeded",
        ["https://x/out.png"],
    )
    assert prediction.done


def test_replicate_webhook_without_id_is_refused() -> None:
    with pytest.raises(ProviderError):
        parse_replicate_webhook(b'{"status": "succeeded"}')


def test_replicate_webhook_signature_is_verified() -> None:
    key = b"0123456789abcdef0123456789abcdef"
    secret = "whsec_" + base64.b64encode(key).decode()
    body = b'{"id": "p1", "status": "succeeded"}'
    signed = b"msg_1.1700000000." + body
    signature = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": "1700000000",
        "webhook-signature": f"v1,{signature}",
    }
    assert verify_replicate_webhook(headers, body, secret, now=1700000010)
    assert not verify_replicate_webhook(headers, body + b" ", secret, now=1700000010)
    assert not verify_replicate_webhook(headers, body, secret, now=1700009999)  # too old


# OpenAI ------------------------------------------------------------------------------


def test_openai_edit_sends_multipart_and_decodes_b64(
    server: FakeProvider, astronaut_png: bytes
) -> None:
    server.on(
        "POST",
        "/v1/images/edits",
        Reply(
            200,
            {"created": 1700000000, "data": [{"b64_json": base64.b64encode(RESULT_PNG).decode()}]},
        ),
    )
    [image] = OpenAIImagesEngine(_settings(server), sleep=lambda s: None).render(
        _request(astronaut_png, aspect_ratio="3:4")
    )
    assert (image.width, image.height) == (768, 1024)
    [call] = server.received("POST", "/v1/images/edits")
    assert call.headers["authorization"] == "Bearer sk-test"
    form = call.multipart()
    assert form["model"] == "gpt-image-1"
    assert form["size"] == "1024x1536"
    assert "corporate headshot" in form["prompt"].lower()
    _filename, content_type, data = form["image"]
    assert content_type == "image/png" and Image.open(io.BytesIO(data)).size == (512, 512)


def test_openai_auth_error_is_not_retried(server: FakeProvider, astronaut_png: bytes) -> None:
    server.on(
        "POST",
        "/v1/images/edits",
        Reply(
            401,
            {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}},
        ),
    )
    with pytest.raises(ProviderError) as caught:
        OpenAIImagesEngine(_settings(server), sleep=lambda s: None).render(_request(astronaut_png))
    assert caught.value.code == "auth" and "Incorrect API key" in caught.value.message
    assert len(server.received("POST", "/v1/images/edits")) == 1


def test_openai_answer_without_image_is_a_bad_response(
    server: FakeProvider, astronaut_png: bytes
) -> None:
    server.on("POST", "/v1/images/edits", Reply(200, {"created": 1, "data": []}))
    with pytest.raises(ProviderError) as caught:
        OpenAIImagesEngine(_settings(server), sleep=lambda s: None).render(_request(astronaut_png))
    assert caught.value.code == "bad_response"


# Stability ---------------------------------------------------------------------------

SD3 = "/v2beta/stable-image/generate/sd3"


def test_stability_image_to_image_request_shape(server: FakeProvider, astronaut_png: bytes) -> None:
    server.on(
        "POST",
        SD3,
        Reply(
            200,
            {"image": base64.b64encode(RESULT_PNG).decode(), "finish_reason": "SUCCESS", "seed": 7},
        ),
    )
    [image] = StabilityEngine(_settings(server), sleep=lambda s: None).render(
        _request(astronaut_png)
    )
    assert image.engine == "stability" and image.metadata["provider"]["seed"] == 7
    [call] = server.received("POST", SD3)
    assert call.headers["authorization"] == "Bearer sk-stab"
    assert call.headers["accept"] == "application/json"
    form = call.multipart()
    assert form["mode"] == "image-to-image"
    assert 0 < float(form["strength"]) < 1
    assert form["negative_prompt"]
    assert form["image"][1] == "image/png"


def test_stability_raw_image_answer_is_accepted(server: FakeProvider, astronaut_png: bytes) -> None:
    server.on(
        "POST",
        SD3,
        Reply(
            200, RESULT_PNG, {"Content-Type": "image/png", "finish-reason": "SUCCESS", "seed": "7"}
        ),
    )
    [image] = StabilityEngine(_settings(server), sleep=lambda s: None).render(
        _request(astronaut_png)
    )
    assert image.width == 1024


def test_stability_content_filter_is_reported(server: FakeProvider, astronaut_png: bytes) -> None:
    server.on(
        "POST",
        SD3,
        Reply(
            200,
            {
                "image": base64.b64encode(RESULT_PNG).decode(),
                "finish_reason": "CONTENT_FILTERED",
                "seed": 1,
            },
        ),
    )
    with pytest.raises(ProviderError) as caught:
        StabilityEngine(_settings(server), sleep=lambda s: None).render(_request(astronaut_png))
    assert caught.value.code == "content_filtered"


def test_stability_400_carries_the_providers_reason(
    server: FakeProvider, astronaut_png: bytes
) -> None:
    server.on(
        "POST",
        SD3,
        Reply(
            400,
            {"id": "e1", "name": "bad_request", "errors": ["strength: must be between 0 and 1"]},
        ),
    )
    with pytest.raises(ProviderError) as caught:
        StabilityEngine(_settings(server), sleep=lambda s: None).render(_request(astronaut_png))
    assert caught.value.code == "rejected" and "strength" in caught.value.message


# fal ---------------------------------------------------------------------------------

FAL_MODEL = "/fal-ai/flux-pro/kontext"


def _fal_submit(server: FakeProvider) -> None:
    server.on(
        "POST",
        FAL_MODEL,
        Reply(200, {
            "request_id": "r1",
            "status_url": f"{server.url}{FAL_MODEL}/requests/r1/status",
            "response_url": f"{server.url}{FAL_MODEL}/requests/r1",
            "cancel_url": f"{server.url}{FAL_MODEL}/requests/r1/cancel",
        }),
    )  # fmt: skip


def test_fal_queue_submit_poll_result_download(server: FakeProvider, astronaut_png: bytes) -> None:
    _fal_submit(server)
    server.on(
        "GET",
        f"{FAL_MODEL}/requests/r1/status",
        Reply(202, {"status": "IN_QUEUE", "queue_position": 2}),
        Reply(202, {"status": "IN_PROGRESS"}),
        Reply(200, {"status": "COMPLETED"}),
    )
    server.on(
        "GET",
        f"{FAL_MODEL}/requests/r1",
        Reply(
            200,
            {
                "images": [{"url": f"{server.url}/files/out.png", "content_type": "image/png"}],
                "seed": 7,
            },
        ),
    )
    server.on("GET", "/files/out.png", Reply(200, RESULT_PNG))
    [image] = FalEngine(_settings(server), sleep=lambda s: None).render(
        _request(astronaut_png, aspect_ratio="16:9")
    )
    assert (image.width, image.height) == (1024, 576)
    [submit] = server.received("POST", FAL_MODEL)
    assert submit.headers["authorization"] == "Key fal-key"
    assert submit.json()["image_url"].startswith("data:image/png;base64,")
    assert len(server.received("GET", f"{FAL_MODEL}/requests/r1/status")) == 3


def test_fal_failed_request_is_a_clear_error(server: FakeProvider, astronaut_png: bytes) -> None:
    _fal_submit(server)
    server.on("GET", f"{FAL_MODEL}/requests/r1/status", Reply(200, {"status": "COMPLETED"}))
    server.on(
        "GET",
        f"{FAL_MODEL}/requests/r1",
        Reply(422, {"detail": [{"msg": "image_url could not be loaded"}]}),
    )
    with pytest.raises(ProviderError) as caught:
        FalEngine(_settings(server), sleep=lambda s: None).render(_request(astronaut_png))
    assert caught.value.code == "prediction_failed"
    assert "could not be loaded" in caught.value.message


def test_fal_refuses_to_send_its_key_to_another_host(
    server: FakeProvider, astronaut_png: bytes
) -> None:
    server.on(
        "POST",
        FAL_MODEL,
        Reply(
            200,
            {
                "request_id": "r1",
                "status_url": "http://evil.example/s",
                "response_url": "http://evil.example/r",
            },
        ),
    )
    with pytest.raises(ProviderError) as caught:
        FalEngine(_settings(server), sleep=lambda s: None).render(_request(astronaut_png))
    assert caught.value.code == "bad_response"


# Keys ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "engine_class", [ReplicateEngine, OpenAIImagesEngine, StabilityEngine, FalEngine]
)
def test_engine_without_key_is_unavailable_and_refuses_to_render(
    engine_class, astronaut_png: bytes
) -> None:
    engine = engine_class(ProviderSettings())
    assert engine.availability().available is False
    with pytest.raises(EngineUnavailable):
        engine.render(_request(astronaut_png))
