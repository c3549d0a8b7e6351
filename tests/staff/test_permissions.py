"""Every staff surface: anonymous 401 / non-staff 403 on the API, a redirect from admin."""

import pytest
from django.test import Client

from credits import selectors as credits_selectors
from staff.models import AuditLog
from tests.conftest import client_for
from tests.staff.conftest import balance, spent_generation

pytestmark = pytest.mark.django_db


def _api_calls(generation, member):
    return [
        ("post", f"/api/v1/admin/headshots/{generation.pk}/refund", {"reason": "test"}),
        (
            "post",
            "/api/v1/admin/credits/adjust",
            {"team_id": member.team.id, "user_id": member.id, "amount": 5, "reason": "test"},
        ),
        ("get", "/api/v1/admin/metrics", None),
        ("get", "/api/v1/admin/metrics?start=2025-01-01&end=2025-01-31", None),
    ]


def test_anonymous_gets_401_and_a_member_403_on_every_staff_endpoint(api, member):
    generation = spent_generation(member)
    before = balance(member)
    for method, url, body in _api_calls(generation, member):
        anonymous = getattr(api, method)(url, body, format="json")
        assert anonymous.status_code == 401, url
        assert anonymous.json()["code"] == "not_authenticated"
        # the member whose generation it is: still not staff
        refused = getattr(client_for(member), method)(url, body, format="json")
        assert refused.status_code == 403, url
        assert set(refused.json()) == {"detail", "code"}
        assert refused.json()["code"] == "permission_denied"
    assert balance(member) == before
    assert not AuditLog.objects.exists()
    assert credits_selectors.ledger_audit().clean


def test_a_staff_user_is_let_through(member, staff_user):
    generation = spent_generation(member)
    client = client_for(staff_user)
    assert client.get("/api/v1/admin/metrics").status_code == 200
    response = client.post(
        f"/api/v1/admin/headshots/{generation.pk}/refund", {"reason": "ok"}, format="json"
    )
    assert response.status_code == 201


def test_a_non_staff_user_is_redirected_from_every_admin_page(member, staff_user):
    generation = spent_generation(member)
    membership = member.memberships.get()
    urls = [
        "/admin/",
        "/admin/staff/analytics/",
        "/admin/staff/sitesettings/",
        "/admin/staff/auditlog/",
        "/admin/headshots/headshotgeneration/",
        f"/admin/headshots/headshotgeneration/{generation.pk}/change/",
        f"/admin/headshots/headshotgeneration/{generation.pk}/refund/",
        "/admin/headshots/headshotstyle/",
        "/admin/credits/transaction/",
        "/admin/teams/team/",
        f"/admin/teams/membership/{membership.pk}/adjust/",
        f"/admin/teams/team/{member.team.id}/adjust/",
        "/admin/accounts/user/",
    ]
    browser = Client()
    browser.force_login(member)
    for url in urls:
        response = browser.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url
    # posting the refund form as a member changes nothing
    response = browser.post(
        f"/admin/headshots/headshotgeneration/{generation.pk}/refund/", {"reason": "free money"}
    )
    assert response.status_code == 302
    generation.refresh_from_db()
    assert generation.credits_refunded == 0
    # and staff do get the pages
    staff = Client()
    staff.force_login(staff_user)
    for url in urls:
        assert staff.get(url, follow=True).status_code == 200, url
