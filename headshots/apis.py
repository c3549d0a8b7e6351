"""Headshot endpoints of the mobile contract (DESIGN.md "REST API"). Thin: validate, call, serialise."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Manager
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import ISO_8601, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from common.api import (
    SubmitThrottledMixin,
    choice_filter_field,
    client_key,
    id_field,
    key_team_id,
    paginated,
)
from common.errors import ApplicationError
from common.parsers import JSONParser
from headshots import exports, files, selectors, services
from headshots.models import AspectRatio, Event, Quality, Status
from headshots.pricing import EXTRA_IMAGE_COST, MAX_BATCH_SIZE, PREMIUM_SURCHARGE, QUALITY_SURCHARGE
from staff.selectors import site_settings

# DRF's own conversion of a datetime (ISO 8601 in the active time zone, "Z" for UTC); an
# unbound field is enough for to_representation.
_DATETIME = serializers.DateTimeField()


def _datetimes() -> Callable[[datetime | None], str | None]:
    """`_DATETIME.to_representation` for one answer, the active time zone looked up once
    rather than for each of a page's 40 datetimes. Anything but an aware datetime in ISO
    8601 output takes DRF's own path."""
    zone, output = _DATETIME.default_timezone(), api_settings.DATETIME_FORMAT
    if zone is None or not isinstance(output, str) or output.lower() != ISO_8601:
        return _DATETIME.to_representation

    def write(value: datetime | None) -> str | None:
        if not isinstance(value, datetime) or value.utcoffset() is None:
            return _DATETIME.to_representation(value)
        try:
            text = value.astimezone(zone).isoformat()
        except OverflowError:
            return _DATETIME.to_representation(value)  # DRF's own error
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return write


def _float_or_none(value) -> float | None:
    return None if value is None else float(value)


class StyleSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    category = serializers.CharField()
    is_premium = serializers.BooleanField()
    base_cost = serializers.IntegerField()
    sample_url = serializers.SerializerMethodField()

    def get_sample_url(self, style) -> str | None:
        return style.sample.url if style.sample else None


class ImageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    index = serializers.IntegerField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    webp_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    is_favorite = serializers.BooleanField()
    engine = serializers.CharField()
    model = serializers.CharField(source="model_name")
    identity_score = serializers.FloatField(allow_null=True)
    quality_score = serializers.FloatField(allow_null=True)
    seed = serializers.IntegerField()
    credits = serializers.IntegerField()

    def get_url(self, image) -> str | None:
        return files.file_url(image.image)

    def get_webp_url(self, image) -> str | None:
        return files.file_url(image.image_webp)

    def get_thumbnail_url(self, image) -> str | None:
        return files.file_url(image.thumbnail)

    def to_representation(self, image) -> dict:
        return _image_answer(image, files.file_urls())


def _image_answer(image, url) -> dict:
    """ImageSerializer's declared fields' answer, written out: a history page has 20
    generations and their images, and DRF's field-by-field walk cost more than the
    queries. tests/headshots/test_answers.py holds it equal to the fields' own answer."""
    return {
        "id": image.id,
        "index": image.index,
        "width": image.width,
        "height": image.height,
        "url": url(image.image),
        "webp_url": url(image.image_webp),
        "thumbnail_url": url(image.thumbnail),
        "is_favorite": bool(image.is_favorite),
        "engine": str(image.engine),
        "model": str(image.model_name),
        "identity_score": _float_or_none(image.identity_score),
        "quality_score": _float_or_none(image.quality_score),
        "seed": image.seed,
        "credits": image.credits,
    }


class _GenerationList(serializers.ListSerializer):
    """A page of generations: one file-URL maker for all of their images."""

    def to_representation(self, data) -> list[dict]:
        rows = data.all() if isinstance(data, Manager) else data
        url = files.file_urls()
        when = _datetimes()
        return [_generation_answer(generation, url, when) for generation in rows]


class GenerationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    team_id = serializers.IntegerField()
    style = serializers.CharField(source="style.slug")
    style_name = serializers.CharField(source="style.name")
    aspect_ratio = serializers.CharField()
    quality = serializers.CharField()
    batch_size = serializers.IntegerField()
    status = serializers.CharField()
    progress = serializers.IntegerField()
    credits_held = serializers.IntegerField()
    credits_used = serializers.IntegerField()
    credits_refunded = serializers.IntegerField()
    engine = serializers.CharField()
    processing_ms = serializers.IntegerField(allow_null=True)
    error_code = serializers.CharField()
    error_message = serializers.CharField()
    retry_count = serializers.IntegerField()
    is_favorite = serializers.BooleanField()
    inspection = serializers.JSONField()
    original_available = serializers.SerializerMethodField()
    images = ImageSerializer(many=True)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        list_serializer_class = _GenerationList

    def get_original_available(self, generation) -> bool:
        return _original_available(generation)

    def to_representation(self, generation) -> dict:
        """The declared fields' answer, written out (see _image_answer); the columns it
        reads are selectors.ANSWER_GENERATION_FIELDS and ANSWER_IMAGE_FIELDS."""
        return _generation_answer(generation, files.file_urls(), _datetimes())


def _original_available(generation) -> bool:
    return bool(generation.source) and generation.source_deleted_at is None


def _live_images(generation):
    """An answer row's images (selectors.ANSWER_IMAGES), else the prefetched relation."""
    images = getattr(generation, selectors.ANSWER_IMAGES, None)
    return generation.images.all() if images is None else images


def _generation_answer(generation, url, when) -> dict:
    """GenerationSerializer's declared fields' answer, written out; `url` is a
    `files.file_urls()` and `when` a `_datetimes()`, shared by the page."""
    style = generation.style
    return {
        "id": generation.id,
        "team_id": generation.team_id,
        "style": str(style.slug),
        "style_name": str(style.name),
        "aspect_ratio": str(generation.aspect_ratio),
        "quality": str(generation.quality),
        "batch_size": generation.batch_size,
        "status": str(generation.status),
        "progress": generation.progress,
        "credits_held": generation.credits_held,
        "credits_used": generation.credits_used,
        "credits_refunded": generation.credits_refunded,
        "engine": str(generation.engine),
        "processing_ms": generation.processing_ms,
        "error_code": str(generation.error_code),
        "error_message": str(generation.error_message),
        "retry_count": generation.retry_count,
        "is_favorite": bool(generation.is_favorite),
        "inspection": generation.inspection,
        "original_available": _original_available(generation),
        "images": [_image_answer(row, url) for row in _live_images(generation)],
        "created_at": when(generation.created_at),
        "finished_at": when(generation.finished_at),
    }


class HeadshotConfigApi(APIView):
    class OutputSerializer(serializers.Serializer):
        styles = StyleSerializer(many=True)
        aspect_ratios = serializers.ListField(child=serializers.DictField())
        qualities = serializers.ListField(child=serializers.DictField())
        batch_size = serializers.DictField()
        pricing = serializers.DictField()
        max_upload_mb = serializers.IntegerField()
        retention_minutes = serializers.IntegerField()

    @extend_schema(
        parameters=[OpenApiParameter("team", int, required=False)], responses=OutputSerializer
    )
    def get(self, request):
        team = services.headshot_team(request.user, request.query_params.get("team"))
        rules = site_settings()
        # Plain JSON values throughout: OutputSerializer documents the shape.
        data = {
            "styles": selectors.style_options_for_team(team=team),
            "aspect_ratios": [{"value": v, "label": label} for v, label in AspectRatio.choices],
            "qualities": [
                {"value": v, "label": label, "surcharge": QUALITY_SURCHARGE[v]}
                for v, label in Quality.choices
            ],
            "batch_size": {"min": 1, "max": rules.max_batch_size},
            "pricing": {
                "premium_surcharge": PREMIUM_SURCHARGE,
                "extra_image": EXTRA_IMAGE_COST,
                "quality_surcharge": QUALITY_SURCHARGE,
            },
            "max_upload_mb": settings.HEADSHOT_MAX_UPLOAD_BYTES // (1024 * 1024),
            "retention_minutes": rules.retention_minutes,
        }
        return Response(data)


class HeadshotSpecSerializer(serializers.Serializer):
    team = id_field(required=False, allow_null=True)
    style = serializers.CharField(max_length=50)
    aspect_ratio = serializers.ChoiceField(choices=AspectRatio.choices, default=AspectRatio.SQUARE)
    quality = serializers.ChoiceField(choices=Quality.choices, default=Quality.STANDARD)
    batch_size = serializers.IntegerField(min_value=1, max_value=MAX_BATCH_SIZE, default=1)


class HeadshotEstimateApi(APIView):
    class OutputSerializer(serializers.Serializer):
        credits = serializers.IntegerField()
        style = serializers.CharField(source="style.slug")
        quality = serializers.CharField()
        aspect_ratio = serializers.CharField()
        batch_size = serializers.IntegerField()

    @extend_schema(request=HeadshotSpecSerializer, responses=OutputSerializer)
    def post(self, request):
        data = HeadshotSpecSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        estimate = services.headshot_estimate(
            user=request.user,
            team_id=v.get("team"),
            style_slug=v["style"],
            quality=v["quality"],
            aspect_ratio=v["aspect_ratio"],
            batch_size=v["batch_size"],
        )
        return Response(self.OutputSerializer(estimate).data)


class HeadshotInspectApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        photo = serializers.FileField()

    class OutputSerializer(serializers.Serializer):
        ok = serializers.BooleanField()
        score = serializers.IntegerField()
        reasons = serializers.ListField(child=serializers.CharField())

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.headshot_inspect(photo=data.validated_data["photo"])
        return Response(self.OutputSerializer(result).data)


class HeadshotListSubmitApi(SubmitThrottledMixin, APIView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    class FilterSerializer(serializers.Serializer):
        favorite = serializers.BooleanField(required=False, allow_null=True, default=None)
        status = choice_filter_field("Status", Status.choices)
        style = serializers.CharField(required=False)

    class SubmitSerializer(HeadshotSpecSerializer):
        """A new photo with its options, or `retry_of` a failed generation, whose options
        are the original's: any sent beside it must match them (no defaults are filled)."""

        style = serializers.CharField(
            max_length=50,
            required=False,
            help_text="Required with a photo. With retry_of it may be left out; if sent, it "
            "must be the original's (so must any other option).",
        )
        photo = serializers.FileField(required=False)
        retry_of = id_field(required=False)

        def get_fields(self):
            fields = super().get_fields()
            # A blank retry_of (a multipart form's empty field) is a new photo: keep defaults.
            if getattr(self, "initial_data", {}).get("retry_of") not in (None, ""):
                for name in HeadshotSpecSerializer._declared_fields:
                    fields[name].required = False
                    fields[name].default = serializers.empty
            return fields

        def validate(self, attrs):
            if attrs.get("retry_of") and attrs.get("photo"):
                raise serializers.ValidationError(
                    "Send a photo or retry_of, not both: a retry reuses the original upload."
                )
            if not attrs.get("retry_of") and not attrs.get("style"):
                raise serializers.ValidationError({"style": ["This field is required."]})
            return attrs

    @extend_schema(
        parameters=[
            OpenApiParameter("favorite", bool, required=False),
            OpenApiParameter("status", enum=Status.values, required=False),
            OpenApiParameter("style", str, required=False),
        ],
        responses=GenerationSerializer(many=True),
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return paginated(
            request=request,
            view=self,
            queryset=selectors.headshot_list_answer(
                user=request.user, filters=filters.validated_data, team_id=key_team_id(request)
            ),
            serializer_class=GenerationSerializer,
        )

    @extend_schema(request=SubmitSerializer, responses={202: GenerationSerializer})
    def post(self, request):
        data = self.SubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        if v.get("retry_of"):
            generation = services.headshot_retry(
                user=request.user, generation_id=v.pop("retry_of"), options=v
            )
        else:
            generation, _ = services.headshot_submit(
                user=request.user,
                team_id=v.get("team"),
                style_slug=v["style"],
                aspect_ratio=v["aspect_ratio"],
                quality=v["quality"],
                batch_size=v["batch_size"],
                photo=v.get("photo"),
                idempotency_key=client_key(request),
            )
        generation = selectors.headshot_get_answer(user=request.user, generation_id=generation.pk)
        return Response(GenerationSerializer(generation).data, status=status.HTTP_202_ACCEPTED)


class HeadshotBatchApi(SubmitThrottledMixin, APIView):
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        team = id_field(required=False, allow_null=True)
        photo = serializers.FileField()
        styles = serializers.ListField(
            child=serializers.CharField(max_length=50), min_length=1, max_length=11
        )
        aspect_ratio = serializers.ChoiceField(
            choices=AspectRatio.choices, default=AspectRatio.SQUARE
        )
        quality = serializers.ChoiceField(choices=Quality.choices, default=Quality.STANDARD)
        batch_size = serializers.IntegerField(min_value=1, max_value=MAX_BATCH_SIZE, default=1)

    @extend_schema(request=InputSerializer, responses={202: GenerationSerializer(many=True)})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        generations = services.headshot_submit_batch(
            user=request.user,
            team_id=v.get("team"),
            style_slugs=v["styles"],
            aspect_ratio=v["aspect_ratio"],
            quality=v["quality"],
            batch_size=v["batch_size"],
            photo=v["photo"],
            idempotency_key=client_key(request),
        )
        rows = selectors.headshot_list_answer_for_ids(
            user=request.user, generation_ids=[g.pk for g in generations]
        )
        return Response(GenerationSerializer(rows, many=True).data, status=status.HTTP_202_ACCEPTED)


class HeadshotDetailApi(APIView):
    @extend_schema(responses=GenerationSerializer)
    def get(self, request, generation_id: int):
        generation = selectors.headshot_get_answer(
            user=request.user, generation_id=generation_id, team_id=key_team_id(request)
        )
        return Response(GenerationSerializer(generation).data)

    @extend_schema(responses={204: None})
    def delete(self, request, generation_id: int):
        services.headshot_delete(user=request.user, generation_id=generation_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class HeadshotFavoriteApi(APIView):
    @extend_schema(request=None, responses=GenerationSerializer)
    def post(self, request, generation_id: int):
        services.headshot_set_favorite(
            user=request.user, generation_id=generation_id, favorite=True
        )
        return Response(
            GenerationSerializer(
                selectors.headshot_get_answer(user=request.user, generation_id=generation_id)
            ).data
        )

    @extend_schema(responses=GenerationSerializer)
    def delete(self, request, generation_id: int):
        services.headshot_set_favorite(
            user=request.user, generation_id=generation_id, favorite=False
        )
        return Response(
            GenerationSerializer(
                selectors.headshot_get_answer(user=request.user, generation_id=generation_id)
            ).data
        )


class HeadshotRetryApi(SubmitThrottledMixin, APIView):
    @extend_schema(request=None, responses={202: GenerationSerializer})
    def post(self, request, generation_id: int):
        services.headshot_retry(user=request.user, generation_id=generation_id)
        generation = selectors.headshot_get_answer(user=request.user, generation_id=generation_id)
        return Response(GenerationSerializer(generation).data, status=status.HTTP_202_ACCEPTED)


class HeadshotExportApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("watermark", bool, required=False)],
        responses={(200, "application/zip"): bytes},
    )
    def get(self, request, generation_id: int):
        generation = selectors.headshot_get(
            user=request.user, generation_id=generation_id, team_id=key_team_id(request)
        )
        images = list(generation.images.all())
        if not images:
            raise ApplicationError(
                "This generation has no images to export yet.", code="nothing_to_export", status=409
            )
        watermark = request.query_params.get("watermark") in ("1", "true", "yes")
        data = exports.generation_zip(generation, images, watermark=watermark)
        services.event_record(
            user=request.user,
            name=Event.Name.DOWNLOADED,
            generation_id=generation.pk,
            data={"zip": True},
        )
        response = HttpResponse(data, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="headshots-{generation.pk}.zip"'
        return response


class HeadshotBulkApi(APIView):
    class InputSerializer(serializers.Serializer):
        ids = serializers.ListField(child=id_field(), min_length=1, max_length=200)
        action = serializers.ChoiceField(choices=["favorite", "unfavorite", "delete"])

    class OutputSerializer(serializers.Serializer):
        updated = serializers.IntegerField()

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        updated = services.headshot_bulk(user=request.user, **data.validated_data)
        return Response({"updated": updated})


class ImageDownloadApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("format", enum=list(exports.FORMATS), required=False),
            OpenApiParameter("watermark", bool, required=False),
        ],
        responses={(200, "image/*"): bytes},
    )
    def get(self, request, image_id: int):
        image = selectors.image_get(
            user=request.user, image_id=image_id, team_id=key_team_id(request)
        )
        fmt = request.query_params.get("format", "jpeg")
        if fmt not in exports.FORMATS:
            raise ApplicationError("Format must be jpeg, png or webp.", code="invalid_format")
        watermark = request.query_params.get("watermark") in ("1", "true", "yes")
        data, mime, name = exports.image_as(image, fmt, watermark=watermark)
        services.event_record(
            user=request.user,
            name=Event.Name.DOWNLOADED,
            generation_id=image.generation_id,
            data={"format": fmt},
        )
        response = HttpResponse(data, content_type=mime)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class ImageFavoriteApi(APIView):
    @extend_schema(request=None, responses=ImageSerializer)
    def post(self, request, image_id: int):
        return Response(
            ImageSerializer(
                services.image_set_favorite(user=request.user, image_id=image_id, favorite=True)
            ).data
        )

    @extend_schema(responses=ImageSerializer)
    def delete(self, request, image_id: int):
        return Response(
            ImageSerializer(
                services.image_set_favorite(user=request.user, image_id=image_id, favorite=False)
            ).data
        )


class ImageShareApi(APIView):
    class OutputSerializer(serializers.Serializer):
        url = serializers.CharField()
        expires_at = serializers.DateTimeField()

    @extend_schema(request=None, responses={201: OutputSerializer})
    def post(self, request, image_id: int):
        image = selectors.image_get(user=request.user, image_id=image_id)
        path = services.image_share_link(user=request.user, image=image)
        expires = timezone.now() + timedelta(hours=settings.HEADSHOT_SHARE_LINK_HOURS)
        return Response(
            {"url": request.build_absolute_uri(path), "expires_at": expires},
            status=status.HTTP_201_CREATED,
        )
