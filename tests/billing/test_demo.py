from io import StringIO

import pytest

from billing import demo
from billing.models import Payment, PaymentStatus
from credits import selectors as credits_selectors
from teams.models import Role
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_demo_records_a_paid_starter_purchase_once(packages, no_stripe_keys):
    team = TeamFactory(slug="acme-studio", name="Acme Studio")
    MembershipFactory(team=team, user=UserFactory(email="admin@example.com"), role=Role.ADMIN)
    out = StringIO()

    demo.seed_demo(stdout=out)
    demo.seed_demo(stdout=StringIO())

    assert Payment.objects.get().status == PaymentStatus.PAID
    assert credits_selectors.balance_pool(team_id=team.id) == 50
    assert "STRIPE_TEST_SECRET_KEY" in out.getvalue()
    assert f"/billing/teams/{team.id}/" in out.getvalue()
