"""Staff refund a generation from Django admin; the member's balance and history show it."""

import json

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture says so: a skip, or a failure under REQUIRE_SERVICES
    expect = None

from credits import selectors as credits_selectors
from credits import services as credits_services
from headshots.models import Status
from staff.models import AuditLog
from staff.selectors import site_settings_clear_cache
from tests.factories import MembershipFactory, TeamFactory, UserFactory
from tests.staff.conftest import spent_generation

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    site_settings_clear_cache()
    yield settings.MEDIA_ROOT
    site_settings_clear_cache()


def test_staff_refund_a_generation_and_the_member_sees_it(page, new_page, login, screenshot, media):
    staff = UserFactory(email="support@example.com", is_staff=True, is_superuser=True)
    team = TeamFactory(name="Acme Studio")
    member = MembershipFactory(team=team, user=UserFactory(email="dana@example.com")).user
    credits_services.credits_grant(
        team_id=team.id, user_id=member.id, amount=100, category="purchase", key="seed"
    )
    member.team = team
    generation = spent_generation(member, costs=(3, 2), with_files=True)
    assert credits_selectors.balance_member(team_id=team.id, user_id=member.id) == 95

    # Staff sign in and find the member's generation among the completed ones.
    login(page, staff)
    page.goto("/admin/")
    expect(page.get_by_role("link", name="Analytics")).to_be_visible()
    page.goto("/admin/headshots/headshotgeneration/?status__exact=completed")
    row = page.locator("#result_list tbody tr").filter(has_text="dana@example.com")
    expect(row).to_have_count(1)
    screenshot(page, "1-generations")
    row.get_by_role("link", name=str(generation.pk)).click()

    # The change page shows the images and a Refund button.
    expect(page.locator(".inline-group img")).to_have_count(2)
    screenshot(page, "2-generation")
    page.get_by_test_id("refund-button").click()
    expect(page.get_by_test_id("refundable")).to_have_text("5")

    # A refund needs a reason: without one the form says so and nothing moves.
    page.get_by_role("button", name="Refund").click()
    expect(page.locator(".errorlist")).to_contain_text("This field is required")
    assert credits_selectors.balance_member(team_id=team.id, user_id=member.id) == 95

    page.get_by_label("Reason:").fill("Both results came out blurry")
    screenshot(page, "3-refund-form")
    page.get_by_role("button", name="Refund").click()
    expect(page.locator(".messagelist")).to_contain_text("Refunded 5 credits to dana@example.com")
    expect(page.get_by_test_id("refund-button")).to_have_count(0)  # nothing left to refund
    screenshot(page, "4-refunded")
    generation.refresh_from_db()
    assert generation.status == Status.REFUNDED and generation.credits_refunded == 5

    # The audit log lists it, with who and why.
    page.goto("/admin/staff/auditlog/")
    expect(page.locator("#result_list")).to_contain_text("Both results came out blurry")
    expect(page.locator("#result_list")).to_contain_text("support@example.com")
    screenshot(page, "5-audit-log")
    assert AuditLog.objects.get().amount == 5

    # The analytics page counts it among today's refunded generations, charts drawn inline.
    page.get_by_role("link", name="Analytics").first.click()
    expect(page.get_by_test_id("kpi-total")).to_have_text("1")
    expect(page.locator("svg.chart")).to_have_count(5)
    screenshot(page, "5b-analytics")
    page.set_viewport_size({"width": 390, "height": 844})  # on a phone: charts shrink to fit
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 900})

    # The member signs in: the balance is whole again and the history says why.
    member_page = new_page()
    login(member_page, member)
    expect(member_page.get_by_test_id("total-balance")).to_have_text("100")
    screenshot(member_page, "6-member-dashboard")
    member_page.goto("/api/v1/credits/history")
    lines = json.loads(member_page.locator("body").inner_text())["results"]
    refund = next(line for line in lines if line["type"] == "refund")
    assert refund["amount"] == 5
    assert refund["memo"] == "Both results came out blurry"
    assert refund["reference"] == f"headshot:{generation.pk}"
    member_page.goto(f"/billing/teams/{team.id}/")
    expect(member_page.locator("body")).to_contain_text("Both results came out blurry")
    screenshot(member_page, "7-member-credit-history")
    assert credits_selectors.ledger_audit().clean
