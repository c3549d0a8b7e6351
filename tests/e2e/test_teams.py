"""Invite links in a browser: an admin makes one on the team page (htmx, in place) and a
colleague who opens it signs in and joins."""

from urllib.parse import urlparse

import pytest

from teams.models import Membership, Role
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_admin_shares_an_invite_link_and_a_colleague_joins(
    browser, live_server, new_page, login, screenshot
):
    team = TeamFactory(name="Acme Studio")
    admin = UserFactory(email="admin@acme.example")
    MembershipFactory(team=team, user=admin, role=Role.ADMIN)
    colleague = UserFactory(email="colleague@elsewhere.example")

    page = new_page()
    login(page, admin)
    page.goto(f"/teams/{team.id}/")
    page.fill("input[name=max_uses]", "5")
    page.get_by_role("button", name="Create link").click()
    links = page.get_by_test_id("invite-links")
    links.wait_for()
    assert "0 of 5" in links.inner_text()
    url = links.locator("input").input_value()
    screenshot(page, "team-page")

    visitor = new_page()
    visitor.goto(urlparse(url).path)
    assert visitor.get_by_role("heading", name="Join Acme Studio").is_visible()
    visitor.get_by_role("main").get_by_role("link", name="Sign in").click()
    visitor.fill("input[name=login]", colleague.email)
    visitor.fill("input[name=password]", "correct-horse-42")
    visitor.locator("form").filter(has=visitor.locator("input[name=password]")).locator(
        "button[type=submit]"
    ).click()
    visitor.get_by_test_id("join").click()
    visitor.get_by_text("Welcome to Acme Studio").wait_for()
    screenshot(visitor, "joined")
    assert Membership.objects.get(team=team, user=colleague).role == Role.MEMBER

    page.reload()
    assert "1 of 5" in page.get_by_test_id("invite-links").inner_text()
