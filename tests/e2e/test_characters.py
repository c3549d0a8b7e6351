"""The character studio in the browser, end to end, with a real Celery worker: a member
creates a project and a character, generates a 3x3 expression sheet from a real face
photo, makes a second version, switches back, reloads and finds the same version."""

import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture says so: a skip, or a failure under REQUIRE_SERVICES
    expect = None

from characters.models import CharacterImageVersion, Project
from common.middleware import ContentSecurityPolicyMiddleware
from credits import selectors as credits_selectors
from credits import services as credits_services
from tests.characters.conftest import FACES, characters_worker  # noqa: F401 - fixture
from tests.factories import MembershipFactory, TeamFactory

pytestmark = pytest.mark.django_db(transaction=True)
SLOW_MS = 120_000
CSP = ContentSecurityPolicyMiddleware.POLICY


def _enforce_the_site_csp(page) -> list[str]:
    """Serve every page with the site's Content-Security-Policy (whether or not the
    middleware is switched on in this run) and collect what the browser refuses."""

    def add_policy(route):
        if route.request.resource_type != "document" or route.request.method != "GET":
            route.continue_()  # POSTs answer with redirects to GETs, which get the policy
            return
        response = route.fetch(max_redirects=0)
        headers = {**response.headers, "content-security-policy": CSP}
        route.fulfill(response=response, headers=headers)

    violations: list[str] = []
    page.route("**/*", add_policy)
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and violations.append(message.text)
        ),
    )
    return violations


def _generate(page, *, template: str, style: str, name: str, photo: str, credits: str) -> None:
    page.get_by_test_id("open-generate").click()
    modal = page.locator("#generate-modal")
    expect(modal).to_be_visible()
    modal.get_by_label("Version name").fill(name)
    modal.get_by_test_id(f"template-{template}").check()
    modal.get_by_test_id(f"style-{style}").check()
    modal.get_by_label("Character reference: upload").set_input_files(photo)
    expect(modal.get_by_test_id("estimate")).to_have_text(credits)  # the live cost


def test_member_builds_a_character_and_the_viewed_version_survives_a_reload(
    page,
    login,
    screenshot,
    characters_worker,  # noqa: F811 - the fixture imported above
):
    photo = FACES / "obama.jpg"
    assert photo.is_file(), "run scripts/fetch_test_assets.py"
    team = TeamFactory(name="Northlight Films")
    member = MembershipFactory(team=team).user
    credits_services.credits_grant(
        team_id=team.id, user_id=member.id, amount=30, category="purchase", key="e2e-chars"
    )

    # A project and a character, through the pages.
    violations = _enforce_the_site_csp(page)
    login(page, member)
    page.get_by_role("link", name="Characters").click()
    page.get_by_label("Name").fill("The Lighthouse Keeper")
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url(re.compile(r".*/characters/projects/\d+/$"))
    page.get_by_label("Name").fill("Captain Mara Vale")
    page.get_by_label("Description").fill("Weathered keeper, grey wool coat")
    page.get_by_role("button", name="Add character").click()
    page.wait_for_url(re.compile(r".*/characters/\d+/$"))
    expect(page.get_by_test_id("character-name")).to_have_text("Captain Mara Vale")
    expect(page.get_by_test_id("viewer-empty")).to_be_visible()
    screenshot(page, "1-empty-studio")

    # An expression sheet from a real face photo: 12 credits, shown before generating.
    _generate(
        page,
        template="expression-sheet",
        style="anime",
        name="Anime expressions",
        photo=str(photo),
        credits="12",
    )
    screenshot(page, "2-modal-expression-sheet")
    page.get_by_test_id("generate-submit").click()
    page.wait_for_url(re.compile(r".*/characters/\d+/$"))
    screenshot(page, "2b-generating")  # the progress card (or, on a fast worker, the result)
    expect(page.get_by_test_id("viewer-title")).to_contain_text(
        "Anime expressions", timeout=SLOW_MS
    )  # the progress card polls, then the page reloads onto the new version
    expect(page.get_by_test_id("viewer-active")).to_be_visible()
    expect(page.get_by_test_id("viewer-params")).to_contain_text("3x3 Expression Sheet")
    screenshot(page, "3-sheet-done")
    first = CharacterImageVersion.objects.get(version_name="Anime expressions")
    assert first.status == "completed" and first.is_active and len(first.panels) == 9

    # A second version: a realistic headshot, which becomes the active one.
    _generate(
        page,
        template="headshot",
        style="realistic",
        name="Realistic portrait",
        photo=str(photo),
        credits="4",
    )
    page.get_by_test_id("generate-submit").click()
    expect(page.get_by_test_id("viewer-title")).to_contain_text(
        "Realistic portrait", timeout=SLOW_MS
    )
    expect(page.get_by_test_id("switcher").locator("li")).to_have_count(2)
    screenshot(page, "4-two-versions")

    # Switch back to the sheet in the version switcher...
    page.get_by_test_id("version-1").click()
    expect(page.get_by_test_id("viewer-image")).to_have_attribute("data-version", str(first.pk))
    expect(page.get_by_test_id("viewer-title")).to_contain_text("Anime expressions")
    expect(page.get_by_test_id("version-1")).to_have_attribute("aria-current", "true")
    screenshot(page, "5-switched-to-v1")

    # ...reload: the same version is shown (remembered per member and character).
    page.reload()
    expect(page.get_by_test_id("viewer-image")).to_have_attribute("data-version", str(first.pk))
    expect(page.get_by_test_id("viewer-title")).to_contain_text("Anime expressions")
    screenshot(page, "6-reloaded-same-version")

    # The image itself is served (signed URL), and the ledger is exact.
    src = page.get_by_test_id("viewer-image").get_attribute("src")
    assert page.request.get(src).status == 200
    project = Project.objects.get(name="The Lighthouse Keeper")
    assert project.team_id == team.id
    assert credits_selectors.balance_member(team_id=team.id, user_id=member.id) == 30 - 12 - 4
    assert credits_selectors.ledger_audit().clean
    assert violations == []  # no inline script: the pages work under the site's CSP
