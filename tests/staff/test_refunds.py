"""Refunds: whole or by image, once only, never for a failed job; ledger and audit log agree."""

import io
import threading

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import Client
from PIL import Image

from common.errors import Conflict
from credits import selectors as credits_selectors
from credits.models import Kind, Transaction
from headshots import services as headshots_services
from headshots.models import HeadshotGeneration, Status
from staff import services
from staff.models import AuditAction, AuditLog
from tests.conftest import client_for, needs_postgres
from tests.staff.conftest import balance, spent_generation

pytestmark = pytest.mark.django_db


def _refund(staff_user, generation, **body):
    body.setdefault("reason", "Blurry results")
    return client_for(staff_user).post(
        f"/api/v1/admin/headshots/{generation.pk}/refund", body, format="json"
    )


def _refund_transactions(generation):
    return Transaction.objects.filter(kind=Kind.REFUND, reference=f"headshot:{generation.pk}")


def _ledger_clean():
    assert credits_selectors.ledger_audit().clean
    call_command("credits_audit")  # exits non-zero (CommandError) when it is not


def test_a_refund_gives_the_member_back_what_the_generation_spent(member, staff_user):
    generation = spent_generation(member, costs=(3, 2))
    assert balance(member) == 95

    response = _refund(staff_user, generation, reason="Blurry results")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["amount"] == 5 and body["status"] == "refunded"
    assert body["credits_refunded"] == 5
    assert balance(member) == 100
    generation.refresh_from_db()
    assert generation.status == Status.REFUNDED and generation.credits_refunded == 5
    [tx] = _refund_transactions(generation)
    assert tx.actor_id == staff_user.id and tx.memo == "Blurry results"
    assert tx.idempotency_key == f"headshot:{generation.pk}:refund"
    [log] = AuditLog.objects.all()
    assert (log.actor, log.action, log.amount, log.reason) == (
        staff_user,
        AuditAction.REFUND,
        5,
        "Blurry results",
    )
    assert (log.target_type, log.target_id, log.user_id, log.team_id) == (
        "headshot",
        str(generation.pk),
        member.id,
        member.team.id,
    )
    assert log.ledger_keys == [tx.idempotency_key]
    _ledger_clean()


def test_refunding_twice_pays_once(member, staff_user):
    generation = spent_generation(member, costs=(3,))
    assert _refund(staff_user, generation).status_code == 201
    assert balance(member) == 100

    again = _refund(staff_user, generation, reason="Clicked twice")

    assert again.status_code == 409
    assert again.json()["code"] == "already_refunded"
    assert balance(member) == 100
    assert _refund_transactions(generation).count() == 1
    assert AuditLog.objects.count() == 1
    _ledger_clean()


def test_a_partial_refund_by_image_then_the_rest(member, staff_user):
    generation = spent_generation(member, costs=(3, 2, 2))
    first, second, third = generation.images.order_by("index")
    assert balance(member) == 93

    partial = _refund(staff_user, generation, image_ids=[second.pk], reason="Eyes closed")
    assert partial.status_code == 201, partial.content
    assert partial.json()["amount"] == 2 and partial.json()["status"] == "completed"
    assert balance(member) == 95
    _ledger_clean()

    same_image = _refund(staff_user, generation, image_ids=[second.pk])
    assert same_image.status_code == 409
    assert balance(member) == 95

    rest = _refund(staff_user, generation, reason="The rest too")
    assert rest.status_code == 201
    assert rest.json()["amount"] == 5
    assert sorted(rest.json()["image_ids"]) == sorted([first.pk, third.pk])
    assert balance(member) == 100
    generation.refresh_from_db()
    assert generation.status == Status.REFUNDED and generation.credits_refunded == 7
    assert set(_refund_transactions(generation).values_list("idempotency_key", flat=True)) == {
        f"headshot:{generation.pk}:refund:image:{second.pk}",
        f"headshot:{generation.pk}:refund",
    }

    assert _refund(staff_user, generation).status_code == 409
    assert _refund(staff_user, generation, image_ids=[first.pk]).status_code == 409
    assert balance(member) == 100
    assert list(AuditLog.objects.order_by("id").values_list("amount", flat=True)) == [2, 5]
    _ledger_clean()


def test_refunding_every_image_one_by_one_marks_the_generation_refunded(member, staff_user):
    generation = spent_generation(member, costs=(3, 2))
    ids = list(generation.images.values_list("pk", flat=True))
    assert _refund(staff_user, generation, image_ids=[ids[0]]).status_code == 201
    last = _refund(staff_user, generation, image_ids=[ids[1]])
    assert last.json()["status"] == "refunded"
    assert balance(member) == 100
    assert _refund(staff_user, generation).status_code == 409
    _ledger_clean()


def test_a_failed_generation_has_nothing_to_refund(member, staff_user):
    generation = spent_generation(member, costs=(), status=Status.FAILED)
    assert balance(member) == 100  # its hold was released

    response = _refund(staff_user, generation)

    assert response.status_code == 409
    assert response.json()["code"] == "nothing_to_refund"
    assert balance(member) == 100
    assert not _refund_transactions(generation).exists()
    assert not AuditLog.objects.exists()
    generation.refresh_from_db()
    assert generation.status == Status.FAILED and generation.credits_refunded == 0
    _ledger_clean()


def test_a_running_generation_cannot_be_refunded(member, staff_user):
    generation = spent_generation(member, costs=(3,))
    HeadshotGeneration.objects.filter(pk=generation.pk).update(status=Status.PROCESSING)
    response = _refund(staff_user, generation)
    assert response.status_code == 409
    assert response.json()["code"] == "still_running"
    assert balance(member) == 97


@pytest.mark.parametrize(
    "body,status,code",
    [
        ({"reason": ""}, 400, "invalid"),
        ({"reason": "   "}, 400, "invalid"),
        ({}, 400, "invalid"),
        ({"reason": "x", "image_ids": []}, 400, "invalid"),
        ({"reason": "x", "image_ids": ["one"]}, 400, "invalid"),
        ({"reason": "x" * 501}, 400, "invalid"),
    ],
)
def test_bad_refund_requests_change_nothing(member, staff_user, body, status, code):
    generation = spent_generation(member, costs=(3,))
    response = client_for(staff_user).post(
        f"/api/v1/admin/headshots/{generation.pk}/refund", body, format="json"
    )
    assert response.status_code == status
    assert response.json()["code"] == code
    assert balance(member) == 97
    assert not AuditLog.objects.exists()


def test_an_image_of_another_generation_is_refused(member, staff_user):
    generation = spent_generation(member, costs=(3,))
    other = spent_generation(member, costs=(3,))
    response = _refund(staff_user, generation, image_ids=[other.images.get().pk])
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_images"
    assert balance(member) == 94


@pytest.mark.parametrize("generation_id", ["999999", str(2**63), "9" * 30])
def test_an_unknown_generation_is_404(staff_user, generation_id):
    response = client_for(staff_user).post(
        f"/api/v1/admin/headshots/{generation_id}/refund", {"reason": "x"}, format="json"
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_image_ids_beyond_a_bigint_are_400(member, staff_user):
    generation = spent_generation(member, costs=(3,))
    response = _refund(staff_user, generation, image_ids=[2**63])
    assert response.status_code == 400


def test_the_service_refuses_a_non_staff_actor(member):
    generation = spent_generation(member, costs=(3,))
    with pytest.raises(Exception, match="Only staff"):
        services.staff_headshot_refund(actor=member, generation_id=generation.pk, reason="me")
    assert balance(member) == 97


def test_the_member_sees_the_refund_in_their_history(member, staff_user):
    generation = spent_generation(member, costs=(3,))
    _refund(staff_user, generation, reason="Wrong backdrop")
    lines = client_for(member).get("/api/v1/credits/history?type=refund").json()["results"]
    assert [(line["amount"], line["memo"], line["reference"]) for line in lines] == [
        (3, "Wrong backdrop", f"headshot:{generation.pk}")
    ]
    me = client_for(member).get("/api/v1/me").json()
    assert me["total_balance"] == 100


# --- admin pages ------------------------------------------------------------------------------


def test_the_change_page_has_a_refund_button_and_the_form_refunds_chosen_images(
    member, staff_user, media
):
    generation = spent_generation(member, costs=(3, 2), with_files=True)
    second = generation.images.get(index=1)
    browser = Client()
    browser.force_login(staff_user)
    change = browser.get(f"/admin/headshots/headshotgeneration/{generation.pk}/change/")
    refund_url = f"/admin/headshots/headshotgeneration/{generation.pk}/refund/"
    assert refund_url in change.content.decode()
    assert "<img" in change.content.decode()  # the images inline shows thumbnails

    page = browser.get(refund_url)
    assert page.status_code == 200
    assert 'data-testid="refundable">5<' in page.content.decode()

    missing_reason = browser.post(refund_url, {"reason": "", "images": [str(second.pk)]})
    assert missing_reason.status_code == 200  # the form again, with its error
    assert balance(member) == 95

    done = browser.post(refund_url, {"reason": "Second image blurry", "images": [str(second.pk)]})
    assert done.status_code == 302
    assert balance(member) == 97
    assert browser.get(refund_url).status_code == 200

    rest = browser.post(refund_url, {"reason": "All of it"})
    assert rest.status_code == 302
    assert balance(member) == 100
    again = browser.post(refund_url, {"reason": "Once more"})
    assert again.status_code == 200
    assert "already refunded" in again.content.decode()
    assert balance(member) == 100
    assert AuditLog.objects.filter(action=AuditAction.REFUND).count() == 2
    _ledger_clean()


def test_the_admin_action_refunds_each_selected_generation_once(member, staff_user):
    done = spent_generation(member, costs=(3,))
    failed = spent_generation(member, costs=(), status=Status.FAILED)
    browser = Client()
    browser.force_login(staff_user)
    url = "/admin/headshots/headshotgeneration/"
    selection = {"action": "refund_generations", "_selected_action": [done.pk, failed.pk]}

    confirm = browser.post(url, selection)
    assert confirm.status_code == 200
    assert "Reason" in confirm.content.decode()
    assert balance(member) == 97

    no_reason = browser.post(url, {**selection, "apply": "1", "reason": ""})
    assert no_reason.status_code == 200
    assert balance(member) == 97

    applied = browser.post(url, {**selection, "apply": "1", "reason": "Outage"}, follow=True)
    text = applied.content.decode()
    assert f"Refunded #{done.pk} (3 credits)" in text
    assert f"Not refunded #{failed.pk}" in text
    assert balance(member) == 100

    browser.post(url, {**selection, "apply": "1", "reason": "Outage again"})
    assert balance(member) == 100
    assert AuditLog.objects.count() == 1
    _ledger_clean()


# --- the real lifecycle ----------------------------------------------------------------------


@pytest.fixture
def face_jpeg() -> bytes:
    from skimage import data

    out = io.BytesIO()
    Image.fromarray(data.astronaut()).save(out, format="JPEG", quality=92)
    return out.getvalue()


def test_refunds_of_a_generation_made_by_the_real_pipeline(
    member, staff_user, media, face_jpeg, django_capture_on_commit_callbacks
):
    """Submit and run through headshots.services (studio engine), then refund by image and
    the rest: the member ends where they started, the ledger stays clean."""
    with django_capture_on_commit_callbacks(execute=False):
        generation, _ = headshots_services.headshot_submit(
            user=member,
            team_id=member.team.id,
            style_slug="corporate",
            aspect_ratio="1:1",
            quality="standard",
            batch_size=2,
            photo=io.BytesIO(face_jpeg),
        )
    headshots_services.headshot_run(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == Status.COMPLETED, generation.error_message
    assert balance(member) == 100 - generation.credits_used
    second = generation.images.get(index=1)

    assert _refund(staff_user, generation, image_ids=[second.pk]).status_code == 201
    assert balance(member) == 100 - generation.credits_used + second.credits
    assert _refund(staff_user, generation).status_code == 201
    assert balance(member) == 100
    assert _refund(staff_user, generation).status_code == 409
    _ledger_clean()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_staff_refunding_at_once_pay_once(member, staff_user):
    needs_postgres()
    generation = spent_generation(member, costs=(3, 2))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def refund() -> None:
        try:
            barrier.wait()
            services.staff_headshot_refund(
                actor=staff_user, generation_id=generation.pk, reason="race"
            )
            outcomes.append("refunded")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=refund) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["conflict", "refunded"]
    assert balance(member) == 100
    assert _refund_transactions(generation).count() == 1
    assert credits_selectors.ledger_audit().clean


def test_a_refund_for_a_member_who_left_goes_to_the_team_pool(member, staff_user):
    """It went to the leaver's allocation, which nobody in the team can use any more."""
    from teams.models import Membership

    generation = spent_generation(member, costs=(3, 2))
    pool_before = credits_selectors.balance_pool(team_id=member.team.id)
    Membership.objects.filter(team=member.team, user=member).delete()

    response = _refund(staff_user, generation)

    assert response.status_code == 201, response.content
    assert credits_selectors.balance_pool(team_id=member.team.id) == pool_before + 5
    assert balance(member) == 95
    _ledger_clean()
