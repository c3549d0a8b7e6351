"""A member makes headshots in the browser, end to end, with a real Celery worker."""

import re

import pytest
from PIL import Image

from credits import services as credits_services
from headshots.models import HeadshotGeneration
from tests.factories import MembershipFactory, TeamFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_member_uploads_sees_score_generates_watches_progress_favourites_and_downloads(
    page,
    login,
    screenshot,
    worker_process,
    tmp_path,
):
    from skimage import data

    team = TeamFactory(name="Acme")
    member = MembershipFactory(team=team).user
    credits_services.credits_grant(
        team_id=team.id, user_id=member.id, amount=20, category="purchase", key="e2e"
    )
    photo = tmp_path / "selfie.jpg"
    Image.fromarray(data.astronaut()).save(photo, quality=92)

    login(page, member)
    page.goto("/headshots/new/")
    page.set_input_files("#id_photo", str(photo))
    score = page.get_by_test_id("inspection-score")
    score.wait_for()
    assert int(score.inner_text()) >= 50
    screenshot(page, "1-inspected")

    page.locator("label.style-card", has_text="LinkedIn").click()
    page.select_option("#id_batch_size", "2")
    page.get_by_test_id("estimate").filter(has_text="5").wait_for()  # 3 + 2 for the extra image
    screenshot(page, "2-estimate")
    page.click("#submit")

    page.wait_for_url(re.compile(r".*/headshots/\d+/$"))
    page.get_by_test_id("progress").filter(has_text="100%").wait_for(timeout=90_000)
    page.get_by_test_id("status").filter(has_text="Completed").wait_for()
    assert page.get_by_test_id("compare").count() == 2
    screenshot(page, "3-completed")

    page.get_by_test_id("favorite").click()
    page.get_by_test_id("favorite").filter(has_text="★").wait_for()
    generation = HeadshotGeneration.objects.get(user=member)
    assert generation.is_favorite
    assert generation.style.slug == "linkedin"

    with page.expect_download() as download_info:
        page.get_by_test_id("download-jpeg").first.click()
    download = download_info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes()[:2] == b"\xff\xd8"
    assert Image.open(saved).size[0] >= 1000
    screenshot(page, "4-favourited")
