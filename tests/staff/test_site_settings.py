"""Site settings: edited in admin, cached, and in force at once (no restart, no deploy)."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone

import generation as generation_api
from accounts.services import user_create
from credits import selectors as credits_selectors
from headshots import engine
from headshots import services as headshots_services
from headshots.models import HeadshotGeneration, HeadshotStyle, Status
from staff import services
from staff.models import AuditAction, AuditLog, SiteSettings
from staff.selectors import site_settings
from tests.conftest import client_for
from tests.staff.conftest import spent_generation

pytestmark = pytest.mark.django_db

URL = "/admin/staff/sitesettings/"
CHANGE_URL = "/admin/staff/sitesettings/1/change/"
DEFAULTS = {
    "identity_threshold": "0.58",
    "max_runs": "3",
    "retention_minutes": "30",
    "max_batch_size": "4",
    "signup_bonus": "10",
    "engine_preset": "balanced",
}


@pytest.fixture
def deploy_defaults(settings):
    """Pin the environment's values so the test does not depend on this machine's .env."""
    settings.HEADSHOT_MAX_RUNS = 3
    settings.HEADSHOT_RETENTION_MINUTES = 30
    settings.CREDITS_SIGNUP_BONUS = 10
    settings.ENGINE_PRESET = "balanced"
    settings.HEADSHOT_IDENTITY_THRESHOLD = 0.58


@pytest.fixture
def staff_browser(staff_user):
    browser = Client()
    browser.force_login(staff_user)
    return browser


def _save(browser, **changes):
    return browser.post(CHANGE_URL, {**DEFAULTS, **{k: str(v) for k, v in changes.items()}})


def test_the_list_opens_the_one_row_made_from_the_deploy_defaults(deploy_defaults, staff_browser):
    assert not SiteSettings.objects.exists()
    response = staff_browser.get(URL)
    assert response.status_code == 302 and response["Location"] == CHANGE_URL
    row = SiteSettings.objects.get()
    assert (row.max_runs, row.retention_minutes, row.signup_bonus, row.engine_preset) == (
        3,
        30,
        10,
        "balanced",
    )
    page = staff_browser.get(CHANGE_URL)
    assert page.status_code == 200
    assert staff_browser.get(f"{URL}add/").status_code == 403
    assert staff_browser.post(f"{CHANGE_URL[:-7]}delete/", {"post": "yes"}).status_code == 403


def test_without_a_row_the_environment_decides(settings):
    settings.HEADSHOT_MAX_RUNS = 7
    settings.CREDITS_SIGNUP_BONUS = 4
    assert site_settings().max_runs == 7
    assert site_settings().signup_bonus == 4


def test_reads_are_cached(deploy_defaults, staff_user, django_assert_num_queries):
    services.site_settings_update(actor=staff_user, max_runs=5)
    site_settings()
    with django_assert_num_queries(0):
        assert site_settings().max_runs == 5
        assert site_settings().max_runs == 5


def test_max_batch_size_applies_to_the_next_request(deploy_defaults, staff_browser, member):
    client = client_for(member)
    estimate = {"style": "corporate", "quality": "standard", "aspect_ratio": "1:1", "batch_size": 3}
    assert client.get("/api/v1/headshots/config").json()["batch_size"]["max"] == 4  # cached now
    assert client.post("/api/v1/headshots/estimate", estimate, format="json").status_code == 200

    assert _save(staff_browser, max_batch_size=2).status_code == 302

    assert client.get("/api/v1/headshots/config").json()["batch_size"]["max"] == 2
    refused = client.post("/api/v1/headshots/estimate", estimate, format="json")
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid_batch_size"
    assert "1 to 2" in refused.json()["detail"]


def test_signup_bonus_applies_to_the_next_signup(deploy_defaults, staff_browser):
    first = user_create(email="before@example.com", password="x-long-password-1")
    assert (
        sum(a.balance for a in credits_selectors.allocations_for_user(user_id=first.id).values())
        == 10
    )

    _save(staff_browser, signup_bonus=25)

    second = user_create(email="after@example.com", password="x-long-password-1")
    assert (
        sum(a.balance for a in credits_selectors.allocations_for_user(user_id=second.id).values())
        == 25
    )

    _save(staff_browser, signup_bonus=0)
    third = user_create(email="none@example.com", password="x-long-password-1")
    assert (
        sum(a.balance for a in credits_selectors.allocations_for_user(user_id=third.id).values())
        == 0
    )


def _failed_with_source(member) -> HeadshotGeneration:
    generation = spent_generation(member, costs=(), status=Status.FAILED)
    generation.source.save("upload.jpg", ContentFile(b"jpeg"), save=False)
    HeadshotGeneration.objects.filter(pk=generation.pk).update(source=generation.source.name)
    generation.refresh_from_db()
    return generation


def test_the_retry_limit_applies_at_once(
    deploy_defaults, staff_browser, member, media, django_capture_on_commit_callbacks
):
    generation = _failed_with_source(member)
    _save(staff_browser, max_runs=1)
    refused = client_for(member).post(f"/api/v1/headshots/{generation.pk}/retry")
    assert refused.status_code == 409
    assert refused.json()["code"] == "too_many_retries"

    _save(staff_browser, max_runs=2)
    with django_capture_on_commit_callbacks(execute=False):
        allowed = client_for(member).post(f"/api/v1/headshots/{generation.pk}/retry")
    assert allowed.status_code == 202


def test_the_retention_window_applies_to_the_next_cleanup(
    deploy_defaults, staff_browser, member, media
):
    generation = _failed_with_source(member)
    HeadshotGeneration.objects.filter(pk=generation.pk).update(
        finished_at=timezone.now() - timedelta(minutes=10)
    )
    assert headshots_services.headshot_cleanup_originals() == 0  # 30 minutes by default

    _save(staff_browser, retention_minutes=5)

    assert headshots_services.headshot_cleanup_originals() == 1
    generation.refresh_from_db()
    assert generation.source_deleted_at is not None


def test_engine_preset_and_identity_threshold_reach_the_engine(
    deploy_defaults, staff_browser, monkeypatch
):
    seen = {}

    class Stop(Exception):
        pass

    def engine_for_preset(preset, provider_settings):
        seen["preset"] = preset
        seen["provider_preset"] = provider_settings.engine_preset
        return object()

    def render_checked(engine_, request, *, threshold, max_attempts):
        seen["threshold"] = threshold
        raise Stop

    monkeypatch.setattr(generation_api, "engine_for_preset", engine_for_preset)
    monkeypatch.setattr(generation_api, "render_checked", render_checked)
    spec = engine.style_spec(HeadshotStyle.objects.get(slug="corporate"))
    args = {
        "source": b"x",
        "spec": spec,
        "aspect_ratio": "1:1",
        "quality": "standard",
        "seed": 1,
        "variation": 0,
    }

    with pytest.raises(Stop):
        engine.render_one(**args)
    assert seen == {"preset": "balanced", "provider_preset": "balanced", "threshold": 0.58}

    _save(staff_browser, engine_preset="fast", identity_threshold="0.66")

    with pytest.raises(Stop):
        engine.render_one(**args)
    assert seen == {"preset": "fast", "provider_preset": "fast", "threshold": 0.66}


@pytest.mark.parametrize(
    "bad",
    [
        {"max_batch_size": 5},
        {"max_batch_size": 0},
        {"identity_threshold": "1.5"},
        {"engine_preset": "turbo"},
        {"max_runs": 0},
        {"retention_minutes": 0},
        {"signup_bonus": -1},
    ],
)
def test_invalid_values_are_refused(deploy_defaults, staff_browser, bad):
    staff_browser.get(URL)
    response = _save(staff_browser, **bad)
    assert response.status_code == 200  # the form again, with its errors
    assert response.context["adminform"].form.errors
    assert site_settings().max_batch_size == 4
    assert site_settings().engine_preset == "balanced"
    assert not AuditLog.objects.exists()


def test_a_change_is_audited_with_before_and_after(deploy_defaults, staff_browser, staff_user):
    _save(staff_browser, max_runs=4, engine_preset="best")
    log = AuditLog.objects.get()
    assert (log.action, log.actor, log.target_type) == (
        AuditAction.SETTINGS,
        staff_user,
        "site_settings",
    )
    assert log.data["changed"] == {"max_runs": [3, 4], "engine_preset": ["balanced", "best"]}
    _save(staff_browser, max_runs=4, engine_preset="best")  # no change, no line
    assert AuditLog.objects.count() == 1
    assert SiteSettings.objects.get().updated_by == staff_user
