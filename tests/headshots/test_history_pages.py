"""The API's history pages (selectors.headshot_list_answer) are compiled reads: for every
shape of filters they must page through exactly the rows, count and images of the
queryset the HTML history uses (selectors.headshot_list)."""

import itertools

import pytest
from django.utils import timezone

from headshots import selectors
from headshots.models import GeneratedImage, HeadshotGeneration, HeadshotStyle
from tests.conftest import client_for
from tests.factories import MembershipFactory, TeamFactory, finished_generation, team_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(media):
    """Generations of every kind a filter tells apart, in two teams, beside someone else's."""
    member = team_member()
    other_team = TeamFactory()
    MembershipFactory(team=other_team, user=member)
    made = [finished_generation(member, n_images=2) for _ in range(4)]
    made[0].is_favorite = True
    made[0].save()
    made[1].images.update(is_favorite=True)  # two favourite images: one row, counted once
    made[2].images.filter(index=0).update(deleted_at=timezone.now())
    # its only favourite image is deleted: not a favourite any more
    made[3].images.filter(index=1).update(is_favorite=True, deleted_at=timezone.now())
    finished_generation(member, status="failed")
    finished_generation(member, team=other_team, n_images=3)
    editorial = finished_generation(member)
    editorial.style = HeadshotStyle.objects.exclude(slug="corporate").first()
    editorial.save()
    deleted = finished_generation(member)
    deleted.deleted_at = timezone.now()
    deleted.save()
    finished_generation(team_member())
    member.other_team = other_team
    return member


def _shapes(member):
    favorites = (None, True, False)
    statuses = (None, "completed", "failed")
    other_style = HeadshotStyle.objects.exclude(slug="corporate").first().slug
    styles = (None, "corporate", other_style, "no-such-style")
    teams = (None, member.team.pk, member.other_team.pk)
    for favorite, status, style, team_id in itertools.product(favorites, statuses, styles, teams):
        filters = {"favorite": favorite, "status": status, "style": style}
        yield {key: value for key, value in filters.items() if value is not None}, team_id


def _answer(generation):
    images = getattr(generation, selectors.ANSWER_IMAGES)
    return generation.pk, [(image.pk, image.index) for image in images]


def _expected(generation):
    return generation.pk, [(image.pk, image.index) for image in generation.images.all()]


def test_every_filter_shape_pages_the_querysets_rows_count_and_images(member):
    seen_rows = 0
    for filters, team_id in _shapes(member):
        expected = list(selectors.headshot_list(user=member, filters=filters, team_id=team_id))
        pages = selectors.headshot_list_answer(user=member, filters=filters, team_id=team_id)
        assert pages.count() == len(expected), (filters, team_id)
        for start in range(0, len(expected) + 1, 3):
            window = pages[start : start + 3]
            assert [_answer(g) for g in window] == [
                _expected(g) for g in expected[start : start + 3]
            ], (filters, team_id, start)
        assert [_answer(g) for g in pages] == [_expected(g) for g in expected]
        seen_rows += len(expected)
    assert seen_rows > 0


def test_favourites_are_the_generation_or_a_live_image_of_it(member):
    pages = selectors.headshot_list_answer(user=member, filters={"favorite": True})
    favourites = HeadshotGeneration.objects.filter(user=member, deleted_at__isnull=True)
    assert pages.count() == 2
    assert {g.pk for g in pages} == set(
        favourites.filter(is_favorite=True).values_list("pk", flat=True)
    ) | set(
        favourites.filter(images__is_favorite=True, images__deleted_at__isnull=True).values_list(
            "pk", flat=True
        )
    )


def test_a_page_is_one_read_and_its_images_one_more(member, django_assert_num_queries):
    pages = selectors.headshot_list_answer(user=member)
    pages[0:20]  # compiles
    with django_assert_num_queries(2):
        page = pages[0:20]
    assert len(page) == 7
    with django_assert_num_queries(0):
        assert pages[3:3] == []


def test_images_of_more_generations_than_one_read_takes_are_all_attached(member):
    copy = HeadshotGeneration.objects.filter(user=member, deleted_at__isnull=True).first()
    for _ in range(100):  # more than the largest batch (100); these have no images
        copy.pk = copy.id = None
        copy.save()
    rows = list(
        HeadshotGeneration.objects.filter(user=member, deleted_at__isnull=True).order_by("-id")
    )
    assert len(rows) > 100
    selectors._attach_answer_images(rows)
    live = GeneratedImage.objects.filter(generation__in=rows, deleted_at__isnull=True)
    assert sum(len(getattr(row, selectors.ANSWER_IMAGES)) for row in rows) == live.count() > 0
    for row in rows:
        live = row.images.filter(deleted_at__isnull=True).order_by("index")
        assert [image.pk for image in getattr(row, selectors.ANSWER_IMAGES)] == [
            image.pk for image in live
        ]


def test_history_pages_are_not_sliced_any_other_way(member):
    pages = selectors.headshot_list_answer(user=member)
    for bad in (0, slice(0, None), slice(0, 4, 2), slice(-1, 2), slice(4, 2)):
        with pytest.raises(TypeError):
            pages[bad]


def test_the_api_pages_through_a_filtered_history(member):
    client = client_for(member)
    first = client.get("/api/v1/headshots?status=completed&page_size=2").json()
    second = client.get(first["next"]).json()
    expected = [g.pk for g in selectors.headshot_list(user=member, filters={"status": "completed"})]
    assert first["count"] == len(expected)
    assert [g["id"] for g in first["results"] + second["results"]] == expected[:4]
    assert client.get("/api/v1/headshots?page=99").status_code == 404
