"""The generation and image answers are written out by hand (headshots/apis.py) and read
from rows with only the columns they need (selectors.headshot_*_answer): both must give
byte for byte what the declared serializer fields give for a full row."""

import time

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from headshots import selectors
from headshots.apis import GenerationSerializer, ImageSerializer
from headshots.models import GeneratedImage, Status
from tests.conftest import client_for
from tests.factories import finished_generation, team_member

pytestmark = pytest.mark.django_db


class _FieldImage(ImageSerializer):
    """DRF's field-by-field answer of the declared fields: the reference."""

    to_representation = serializers.Serializer.to_representation


class _FieldGeneration(GenerationSerializer):
    images = _FieldImage(many=True)
    to_representation = serializers.Serializer.to_representation

    class Meta:
        list_serializer_class = serializers.ListSerializer  # DRF's own, item by item


@pytest.fixture
def frozen_clock(monkeypatch):
    """File URLs carry the second they were signed in: one second for both sides."""
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now)


@pytest.fixture
def member(db):
    return team_member()


@pytest.fixture
def generations(member, media):
    """Every shape a field can take: nulls and values, empty and present files, a deleted
    image, an error, an inspection, a kept and a deleted original."""
    done = finished_generation(member, n_images=3)
    done.processing_ms, done.finished_at, done.is_favorite = 1234, timezone.now(), True
    done.inspection = {"ok": True, "score": 91, "reasons": ["ça va", 'quote "x"']}
    done.source.save("me.jpg", ContentFile(b"photo"), save=False)
    done.save()
    first, second, third = done.images.order_by("index")
    first.identity_score, first.quality_score, first.model_name = 0.87, 0.5, "flux-1.1"
    first.image_webp.save("0.webp", ContentFile(b"webp"), save=False)
    first.is_favorite = True
    first.save()
    second.thumbnail = ""
    second.save()
    third.deleted_at = timezone.now()
    third.save()

    failed = finished_generation(member, status=Status.FAILED)
    failed.images.all().delete()
    failed.error_code, failed.error_message = "no_face", "We could not find a face."
    failed.source.save("gone.jpg", ContentFile(b"photo"), save=False)
    failed.source_deleted_at = timezone.now()
    failed.save()

    queued = finished_generation(member, status=Status.QUEUED)
    queued.images.all().delete()
    return [done, failed, queued]


def _render(data) -> bytes:
    return JSONRenderer().render(data)


def test_a_generation_answer_is_the_declared_fields_answer(member, generations, frozen_clock):
    for generation in generations:
        full = selectors.headshot_get(user=member, generation_id=generation.pk)
        answer_row = selectors.headshot_get_answer(user=member, generation_id=generation.pk)
        reference = _render(_FieldGeneration(full).data)
        assert _render(GenerationSerializer(answer_row).data) == reference
        assert _render(GenerationSerializer(full).data) == reference


def test_a_page_answer_is_the_declared_fields_answer(member, generations, frozen_clock):
    full = list(selectors.headshot_list(user=member))
    rows = list(selectors.headshot_list_answer(user=member))
    assert [g.pk for g in rows] == [g.pk for g in full]
    reference = _render(_FieldGeneration(full, many=True).data)
    assert _render(GenerationSerializer(rows, many=True).data) == reference
    # the images behind the favourite button are answered the same way
    image = GeneratedImage.objects.filter(image_webp__gt="").get()
    assert _render(ImageSerializer(image).data) == _render(_FieldImage(image).data)


def test_the_answer_follows_the_active_time_zone_like_the_fields(member, generations, frozen_clock):
    generation = selectors.headshot_get_answer(user=member, generation_id=generations[0].pk)
    full = selectors.headshot_get(user=member, generation_id=generations[0].pk)
    page = list(selectors.headshot_list_answer(user=member))
    full_page = list(selectors.headshot_list(user=member))
    with timezone.override("Asia/Kolkata"):
        data = GenerationSerializer(generation).data
        assert data == _FieldGeneration(full).data
        assert (
            GenerationSerializer(page, many=True).data
            == _FieldGeneration(full_page, many=True).data
        )
    assert data["created_at"].endswith("+05:30")


def test_the_http_answers_are_the_declared_fields_answers(member, generations, frozen_clock):
    client = client_for(member)
    done = generations[0]
    full = selectors.headshot_get(user=member, generation_id=done.pk)
    assert client.get(f"/api/v1/headshots/{done.pk}").content == _render(
        _FieldGeneration(full).data
    )
    page = client.get("/api/v1/headshots?page_size=2").json()
    full_page = list(selectors.headshot_list(user=member)[:2])
    assert page["results"] == _FieldGeneration(full_page, many=True).data


def test_answer_rows_hold_every_column_the_answer_reads(
    member, generations, django_assert_num_queries
):
    """A column missing from selectors.ANSWER_*_FIELDS would be loaded by a query per row."""
    rows = list(selectors.headshot_list_answer(user=member))
    one = selectors.headshot_get_answer(user=member, generation_id=generations[0].pk)
    with django_assert_num_queries(0):
        GenerationSerializer(rows, many=True).data  # noqa: B018 - evaluated for its queries
        GenerationSerializer(one).data  # noqa: B018
    assert "metadata" in rows[0].get_deferred_fields()  # and the rest is really left out


def test_the_config_style_options_are_the_style_serializers_answer(member, media):
    """selectors.style_options_for_team builds the config's styles as plain values: the
    same as StyleSerializer's declared fields, sample URL included, narrowed by the policy."""
    from headshots.apis import StyleSerializer
    from headshots.models import HeadshotStyle, TeamStylePolicy

    team = member.team
    premium = HeadshotStyle.objects.filter(is_premium=True).first()
    premium.sample.save("sample.jpg", ContentFile(b"jpeg"), save=False)
    premium.description = 'Warm "studio" light, ça va'
    premium.save()
    reference = StyleSerializer(selectors.styles_for_team(team=team), many=True).data
    options = selectors.style_options_for_team(team=team)
    assert _render(options) == _render(reference)
    assert any(o["sample_url"] for o in options) and any(o["sample_url"] is None for o in options)
    assert selectors.style_options_for_team(team=team) == options  # from the cache now

    policy = TeamStylePolicy.objects.create(team=team)
    policy.allowed_styles.set([premium])
    narrowed = selectors.style_options_for_team(team=team)
    assert [o["slug"] for o in narrowed] == [premium.slug]
    assert client_for(member).get("/api/v1/headshots/config").json()["styles"] == narrowed
