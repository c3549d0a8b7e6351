"""What a person sees: every page fits a phone (nothing scrolls sideways at 320 px), the
new-headshot page shows its cost before anything is touched, and a file that is not a
picture gets words instead of a broken preview."""

import io

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from billing.demo import seed_demo
from characters import services as characters_services
from credits import services as credits_services
from teams import services as teams_services
from teams.models import Role
from tests.billing.fixtures import seed_packages
from tests.characters.conftest import finished_version
from tests.factories import (
    InvitationFactory,
    MembershipFactory,
    TeamFactory,
    UserFactory,
    finished_generation,
)

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = {"width": 390, "height": 844}
NARROWEST = {"width": 320, "height": 640}  # small phones still in use; wider ones fit too

# The widest elements, to say what overflows when a page does.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')]
    .filter(el => el.getBoundingClientRect().right > width + 1)
    .filter(el => !(el.parentElement && el.parentElement.closest('.table')) && !el.closest('.sr-only'))
    .map(el => `${el.tagName.toLowerCase()}.${el.className}`.slice(0, 60));
  return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 5)};
}"""


@pytest.fixture
def acme(media):
    seed_packages()
    team = TeamFactory(name="Acme Studio", slug="acme-studio")
    admin = UserFactory(email="admin@example.com", name="Alexandra Montgomery-Whitfield")
    MembershipFactory(team=team, user=admin, role=Role.ADMIN)
    for n in range(3):
        member = UserFactory(
            email=f"christopher.vanderberg-{n}@very-long-company-name.example.com",
            name=f"Christopher Vanderberg the {n}th",
        )
        MembershipFactory(team=team, user=member)
    InvitationFactory(team=team, email="bartholomew.featherstonehaugh@example.com")
    seed_demo(stdout=io.StringIO())  # one paid purchase: the purchases table has a row
    credits_services.credits_allocate(
        team_id=team.id, user_id=admin.id, amount=20, key="phone:alloc", actor_id=admin.id
    )
    generation = finished_generation(admin, team=team, n_images=2)
    picture = io.BytesIO()
    Image.new("RGB", (64, 64), (90, 90, 90)).save(picture, format="JPEG")
    generation.source.save("source.jpg", ContentFile(picture.getvalue()))
    project = characters_services.project_create(actor=admin, team_id=team.id, name="Lighthouse")
    character = characters_services.character_create(
        actor=admin, project_id=project.pk, name="Mara"
    )
    finished_version(character, admin, number=1, active=True, version_name="First sheet")
    link = teams_services.invite_link_create(
        actor=admin, team_id=team.id, allowed_domain="very-long-company-name.example.com"
    )
    return {
        "invite_link": link,
        "team": team,
        "admin": admin,
        "generation": generation,
        "project": project,
        "character": character,
    }


def page_walk(acme) -> tuple[list[str], list[str]]:
    """Every page a person sees: signed out, then signed in as Acme's admin."""
    team = acme["team"].id
    signed_out = ["/", "/accounts/login/", "/accounts/signup/"]
    signed_out.append(f"/teams/join/{acme['invite_link'].key}/")
    signed_in = [
        "/",
        "/headshots/new/",
        "/headshots/",
        f"/headshots/{acme['generation'].id}/",
        f"/headshots/team/{team}/styles/",
        "/teams/",
        f"/teams/{team}/",
        f"/billing/teams/{team}/",
        "/characters/",
        f"/characters/projects/{acme['project'].id}/",
        f"/characters/{acme['character'].id}/",
    ]
    return signed_out, signed_in


def test_no_page_scrolls_sideways_on_a_phone(browser, live_server, login, screenshot, acme):
    context = browser.new_context(base_url=live_server.url, viewport=NARROWEST, is_mobile=True)
    page = context.new_page()
    missing = []  # nothing a page loads may be missing
    page.on("response", lambda r: r.status >= 400 and missing.append(f"{r.status} {r.url}"))
    signed_out, paths = page_walk(acme)
    too_wide = {}
    for n, path in enumerate(signed_out + paths):
        if n == len(signed_out):
            login(page, acme["admin"])
        page.goto(path)
        page.wait_for_load_state("networkidle")
        measured = page.evaluate(OVERFLOW)
        if measured["scroll"] > measured["width"]:
            too_wide[path] = measured
            screenshot(page, path.strip("/").replace("/", "-") or "home")
    icon = page.evaluate("document.querySelector('link[rel=icon]')?.href")
    icon_status = page.request.get(icon).status if icon else None
    context.close()
    assert too_wide == {}
    assert missing == []
    assert icon_status == 200  # browsers asked for /favicon.ico on every page: a 404 each


def test_the_new_headshot_page_shows_the_cost_before_anything_is_touched(page, login, acme):
    login(page, acme["admin"])
    page.goto("/headshots/new/")
    estimate = page.get_by_test_id("estimate")
    estimate.wait_for()
    first = int(estimate.inner_text())
    assert first > 0
    page.select_option("#id_batch_size", "3")
    page.get_by_test_id("estimate").filter(has_text=str(first + 4)).wait_for()  # 2 per extra


def test_a_file_that_is_not_a_picture_gets_words_not_a_broken_preview(page, login, acme, tmp_path):
    bogus = tmp_path / "selfie.jpg"
    bogus.write_bytes(b"this is not a photo at all")
    login(page, acme["admin"])
    page.goto("/headshots/new/")
    page.set_input_files("#id_photo", str(bogus))
    page.locator("#drop-hint").filter(has_text="cannot be shown as a picture").wait_for()
    assert page.locator("#preview").is_hidden()


def test_a_slow_upload_says_it_is_uploading_and_cannot_be_sent_twice(page, login, acme, tmp_path):
    from playwright.sync_api import expect
    from skimage import data

    photo = tmp_path / "selfie.jpg"
    Image.fromarray(data.astronaut()).save(photo, quality=92)
    login(page, acme["admin"])
    page.goto("/headshots/new/")
    held = []  # requests kept in flight, as on a slow connection
    page.route("**/headshots/inspect/", lambda route: held.append(route))
    page.set_input_files("#id_photo", str(photo))
    progress = page.get_by_test_id("inspect-progress")
    progress.wait_for(state="visible")
    assert "Uploading and checking your photo" in progress.inner_text()
    held.pop().continue_()
    page.get_by_test_id("inspection-score").wait_for()
    assert progress.is_hidden()

    # The submission goes to a hidden frame, so the page stays to be looked at.
    page.evaluate(
        """() => {
          const sink = document.createElement("iframe");
          sink.name = "sink";
          sink.hidden = true;
          document.body.appendChild(sink);
          document.getElementById("new-headshot").target = "sink";
        }"""
    )
    posted = lambda r: r.method == "POST" and r.url.endswith("/headshots/new/")  # noqa: E731
    # Waiting for it lets the submission finish before the test's data is flushed.
    with page.expect_request_finished(posted):
        page.click("#submit")
    expect(page.locator("#submit")).to_be_disabled()
    expect(page.locator("#submit")).to_have_text("Uploading your photo…")


def test_a_refused_generation_on_a_phone_keeps_the_studio_address_and_reachable_buttons(
    browser, live_server, login, screenshot, acme
):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True)
    page = context.new_page()
    login(page, acme["admin"])
    studio = f"/characters/{acme['character'].id}/"
    page.goto(studio)
    page.get_by_test_id("open-generate").click()
    page.get_by_test_id("generate-submit").click()  # no reference: the studio engine refuses
    page.get_by_test_id("generate-error").wait_for()
    assert page.url.endswith(studio)  # a reload GETs the studio, not the POST-only URL
    for button in (page.get_by_test_id("generate-submit"), page.get_by_text("Cancel")):
        box = button.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert box["y"] + box["height"] <= PHONE["height"]
    footer = page.locator(".cs-modal-foot").bounding_box()
    shot = screenshot(page, "modal")
    context.close()
    assert footer["height"] < PHONE["height"] / 6, shot


def test_empty_lists_say_so_across_the_whole_grid(page, login):
    """An empty state was squeezed into the first 180 px cell of the tile grid."""
    person = MembershipFactory(team=TeamFactory(name="Quiet")).user
    login(page, person)
    for path in ("/headshots/", "/characters/"):
        page.goto(path)
        empty = page.locator(".empty-state").first
        ratio = empty.evaluate("el => el.offsetWidth / el.parentElement.clientWidth")
        assert ratio > 0.9, (path, ratio)
