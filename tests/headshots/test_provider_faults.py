"""A generative provider that fails in every documented way: the job ends (failed or
completed), never stuck, and every held credit is captured or released."""

import base64
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

import generation
from credits import selectors as credits_selectors
from headshots import engine, services
from headshots.models import Status
from tests.factories import team_member
from tests.generation.fake_providers import FakeProvider, Reply

pytestmark = pytest.mark.django_db
EDITS = "/v1/images/edits"


@pytest.fixture
def fake_openai(monkeypatch):
    """The `best` preset on OpenAI images edit, pointed at a local fake, with short timeouts."""
    from staff.selectors import site_settings

    with FakeProvider() as fake:
        provider = generation.ProviderSettings(
            openai_api_key="sk-test-0123456789abcdefghijklmn",
            openai_base_url=fake.url,
            engine_preset="best",
            read_timeout=0.5,
            connect_timeout=0.5,
            max_retries=1,
            backoff_base=0.01,
            backoff_max=0.02,
            retry_after_cap=0.05,
        )
        monkeypatch.setattr(engine, "provider_settings", lambda: provider)
        config = site_settings()
        monkeypatch.setattr(
            engine,
            "site_settings",
            lambda: config.__class__(**{**config.__dict__, "engine_preset": "best"}),
        )
        yield fake


@pytest.fixture
def member(db):
    return team_member(credits=20)


def _run(member, photo: bytes):
    generation_row, _ = services.headshot_submit(
        user=member,
        team_id=member.team.id,
        style_slug="corporate",
        aspect_ratio="1:1",
        quality="standard",
        batch_size=2,
        photo=SimpleUploadedFile("me.jpg", photo, content_type="image/jpeg"),
    )
    services.headshot_run(generation_id=generation_row.pk)
    generation_row.refresh_from_db()
    return generation_row


def _settled(member, row, *, charged: int) -> None:
    assert row.is_finished
    assert (
        credits_selectors.balance_member(team_id=member.team.id, user_id=member.id) == 20 - charged
    )
    assert credits_selectors.ledger_audit().clean


FAULTS = {
    "500 every time": Reply(500, {"error": {"message": "boom"}}),
    "malformed JSON": Reply(200, "{not json", {"Content-Type": "application/json"}),
    "no image in the answer": Reply(200, {"data": [{}]}),
    "timeout": Reply(200, {"data": []}, delay=1.5),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_failing_provider_fails_the_job_and_returns_the_credits(
    member, media, face_jpeg, fake_openai, fault
):
    fake_openai.on("POST", EDITS, FAULTS[fault])
    row = _run(member, face_jpeg)
    assert row.status == Status.FAILED
    assert "credits were returned" in row.error_message
    assert fake_openai.received("POST", EDITS)  # the provider was really called
    _settled(member, row, charged=0)


def test_a_429_with_retry_after_is_retried_and_then_delivered(
    member, media, face_jpeg, fake_openai
):
    # The "provider" answers with the member's own photo, so the identity check passes.
    picture = Image.open(io.BytesIO(face_jpeg)).convert("RGB").resize((1024, 1024))
    out = io.BytesIO()
    picture.save(out, format="PNG")
    ok = Reply(200, {"data": [{"b64_json": base64.b64encode(out.getvalue()).decode()}]})
    fake_openai.on("POST", EDITS, Reply(429, {"error": "slow down"}, {"Retry-After": "0"}), ok)
    row = _run(member, face_jpeg)
    assert row.status == Status.COMPLETED, row.error_message
    assert row.engine == "openai"
    assert len(fake_openai.received("POST", EDITS)) >= 3  # the 429, then one call per image
    _settled(member, row, charged=row.credits_held)
