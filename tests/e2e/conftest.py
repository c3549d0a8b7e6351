"""Shared browser fixtures: headless Debian Chromium driven by Playwright against live_server.

Every browser test uses these: `browser` (one Chromium for the session), `context` and
`page` (fresh per test, base URL = the live server), `login(page, user)` and
`screenshot(page, name)` (PNG files under artifacts/screenshots/, git-ignored).

Without Chromium or Playwright the tests skip, except under REQUIRE_SERVICES=1 (CI),
where they fail: a missing browser can never hide behind a green run.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.billing.fixtures import (  # noqa: F401 - the fake Stripe for browser tests too
    _fake_stripe_server,
    _stripe_never_reaches_the_internet,
    fake_stripe,
)
from tests.conftest import REQUIRE_SERVICES

# Playwright's sync API runs an event loop in this thread; Django would otherwise refuse
# the ORM calls the tests make between browser steps.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PASSWORD = "correct-horse-42"  # tests.factories.UserFactory's password
TIMEOUT_MS = 15_000


def pytest_collection_modifyitems(config, items) -> None:
    here = str(Path(__file__).parent)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.e2e)


def _unavailable(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"Browser tests cannot run: {reason}. CI (REQUIRE_SERVICES=1) requires them.")
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser, live_server):
    ctx = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def new_page(browser, live_server):
    """A page in a fresh context (another person's browser, own cookies)."""
    contexts = []

    def make():
        ctx = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
        ctx.set_default_timeout(TIMEOUT_MS)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def login():
    """Sign in through the real login form, as a person would."""

    def sign_in(page, user, password: str = PASSWORD) -> None:
        page.goto("/accounts/login/")
        page.fill("input[name=login]", user.email)
        page.fill("input[name=password]", password)
        page.locator("form").filter(has=page.locator("input[name=password]")).locator(
            "button[type=submit]"
        ).click()
        page.wait_for_url(re.compile(r".*/$"))
        page.get_by_text("Sign out").wait_for()

    return sign_in


@pytest.fixture
def screenshot(request):
    """Save a full-page PNG under artifacts/screenshots/<test>-<step>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test_name = re.sub(r"[^\w.-]+", "_", request.node.name)

    def shoot(page, step: str) -> Path:
        path = SCREENSHOTS / f"{test_name}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shoot
