"""Character studio endpoints of the mobile contract (DESIGN.md "REST API").

Thin: validate, call one service or selector, serialise. Every lookup goes through the
actor, so another team's project, character or version is a 404 on every route.
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from characters import selectors, services
from characters.models import ArtStyle, Size, Status, TemplateType
from common.api import (
    SubmitThrottledMixin,
    TextField,
    choice_filter_field,
    client_key,
    created,
    paginated,
)
from common.errors import object_id
from common.parsers import JSONParser
from headshots import files


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()


class ProjectSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    team_id = serializers.IntegerField()
    team_name = serializers.CharField(source="team.name")
    name = serializers.CharField()
    description = serializers.CharField()
    created_by = UserSerializer(allow_null=True)
    character_count = serializers.IntegerField(required=False)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class VersionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    character_id = serializers.IntegerField()
    version_name = serializers.CharField()
    version_number = serializers.IntegerField(allow_null=True)
    is_active = serializers.BooleanField()
    status = serializers.CharField()
    progress = serializers.IntegerField()
    error_code = serializers.CharField()
    error_message = serializers.CharField()
    image_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    art_style = serializers.CharField()
    template_type = serializers.CharField()
    aspect_ratio = serializers.CharField()
    mode = serializers.CharField()
    prompt_used = serializers.CharField()
    character_reference_url = serializers.SerializerMethodField()
    background_reference_url = serializers.SerializerMethodField()
    additional_description = serializers.CharField()
    seed = serializers.IntegerField()
    credit_cost = serializers.IntegerField()
    credits_used = serializers.IntegerField()
    model_used = serializers.CharField()
    engine = serializers.CharField()
    identity_score = serializers.FloatField(allow_null=True)
    ssim_score = serializers.FloatField(allow_null=True)
    attempts = serializers.IntegerField()
    panels = serializers.JSONField()
    regenerated_from_id = serializers.IntegerField(allow_null=True)
    created_by_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_image_url(self, version) -> str | None:
        return files.file_url(version.image)

    def get_thumbnail_url(self, version) -> str | None:
        return files.file_url(version.thumbnail)

    def get_character_reference_url(self, version) -> str | None:
        """The stored reference (signed), or the link it was fetched from."""
        return files.file_url(version.character_reference) or (
            version.character_reference_url or None
        )

    def get_background_reference_url(self, version) -> str | None:
        return files.file_url(version.background_reference) or (
            version.background_reference_url or None
        )


class CharacterSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    project_id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    image_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    poses = serializers.JSONField()
    active_version = serializers.SerializerMethodField()
    version_count = serializers.IntegerField(required=False)
    created_by = UserSerializer(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_image_url(self, character) -> str | None:
        return files.file_url(character.image)

    def get_thumbnail_url(self, character) -> str | None:
        return files.file_url(character.thumbnail)

    @extend_schema_field(VersionSerializer(allow_null=True))
    def get_active_version(self, character) -> dict | None:
        version = selectors.active_version(character)
        return VersionSerializer(version).data if version is not None else None


class CharacterDetailSerializer(CharacterSerializer):
    last_viewed_version_id = serializers.SerializerMethodField()

    def get_last_viewed_version_id(self, character) -> int | None:
        version = selectors.version_last_viewed(
            user=self.context["request"].user, character=character
        )
        return version.pk if version is not None else None


class CharacterConfigApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CharacterConfigOutput"

        templates = serializers.ListField(child=serializers.DictField())
        art_styles = serializers.ListField(child=serializers.DictField())
        sizes = serializers.ListField(child=serializers.DictField())
        background_surcharge = serializers.IntegerField()
        max_reference_mb = serializers.IntegerField()

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        config = selectors.studio_config()
        data = {
            "templates": [
                {
                    "value": option.slug,
                    "label": option.info.name,
                    "group": option.info.group,
                    "group_label": config["groups"][option.info.group],
                    "panels": list(option.info.panels),
                    "seed_locked": option.info.seed_locked,
                    "credits": option.credits,
                }
                for option in config["templates"]
            ],
            "art_styles": [{"value": v, "label": label} for v, label in config["art_styles"]],
            "sizes": [{"value": v, "label": label} for v, label in config["sizes"]],
            "background_surcharge": config["background_surcharge"],
            "max_reference_mb": settings.CHARACTERS_MAX_REFERENCE_BYTES // (1024 * 1024),
        }
        return Response(self.OutputSerializer(data).data)


class CharacterEstimateApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CharacterEstimateInput"

        template = serializers.ChoiceField(choices=TemplateType.choices)
        art_style = serializers.ChoiceField(choices=ArtStyle.choices, default=ArtStyle.REALISTIC)
        aspect_ratio = serializers.ChoiceField(choices=Size.choices, default=Size.SQUARE)
        background = serializers.BooleanField(default=False)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CharacterEstimateOutput"

        credits = serializers.IntegerField()
        template = serializers.CharField()
        art_style = serializers.CharField()
        aspect_ratio = serializers.CharField()
        with_background = serializers.BooleanField()

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        estimate = services.character_estimate(
            template=v["template"],
            art_style=v["art_style"],
            aspect_ratio=v["aspect_ratio"],
            with_background=v["background"],
        )
        return Response(self.OutputSerializer(estimate).data)


class ProjectListCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "FilmProjectCreate"

        team = serializers.IntegerField()
        name = TextField(max_length=200)
        description = TextField(required=False, allow_blank=True, default="")

    @extend_schema(
        parameters=[OpenApiParameter("team", int, required=False)],
        responses=ProjectSerializer(many=True),
    )
    def get(self, request):
        team = request.query_params.get("team")
        return paginated(
            request=request,
            view=self,
            # A malformed team is a 404, as on the headshots config, not the unfiltered list.
            queryset=selectors.project_list(
                user=request.user, team_id=object_id(team) if team else None
            ),
            serializer_class=ProjectSerializer,
        )

    @extend_schema(request=InputSerializer, responses={201: ProjectSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        project = services.project_create(
            actor=request.user, team_id=v["team"], name=v["name"], description=v["description"]
        )
        return created(ProjectSerializer(project).data)


class ProjectDetailApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "FilmProjectUpdate"

        name = TextField(max_length=200, required=False)
        description = TextField(required=False, allow_blank=True)

    @extend_schema(responses=ProjectSerializer)
    def get(self, request, project_id: int):
        project = selectors.project_get(user=request.user, project_id=project_id)
        return Response(ProjectSerializer(project).data)

    @extend_schema(request=InputSerializer, responses=ProjectSerializer)
    def patch(self, request, project_id: int):
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        project = services.project_update(
            actor=request.user, project_id=project_id, **data.validated_data
        )
        return Response(ProjectSerializer(project).data)

    @extend_schema(responses={204: None})
    def delete(self, request, project_id: int):
        services.project_delete(actor=request.user, project_id=project_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CharacterListCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CharacterCreate"

        name = TextField(max_length=120)
        description = TextField(required=False, allow_blank=True, default="")

    @extend_schema(responses=CharacterSerializer(many=True))
    def get(self, request, project_id: int):
        return paginated(
            request=request,
            view=self,
            queryset=selectors.character_list(user=request.user, project_id=project_id),
            serializer_class=CharacterSerializer,
        )

    @extend_schema(request=InputSerializer, responses={201: CharacterSerializer})
    def post(self, request, project_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        character = services.character_create(
            actor=request.user, project_id=project_id, **data.validated_data
        )
        character = selectors.character_get(user=request.user, character_id=character.pk)
        return created(CharacterSerializer(character).data)


class CharacterDetailApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CharacterUpdate"

        name = TextField(max_length=120, required=False)
        description = TextField(required=False, allow_blank=True)
        last_viewed_version = serializers.IntegerField(
            required=False, help_text="Remember this version as the one I look at"
        )

    @extend_schema(responses=CharacterDetailSerializer)
    def get(self, request, character_id: int):
        character = selectors.character_get(user=request.user, character_id=character_id)
        return Response(CharacterDetailSerializer(character, context={"request": request}).data)

    @extend_schema(request=InputSerializer, responses=CharacterDetailSerializer)
    def patch(self, request, character_id: int):
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        viewed = v.pop("last_viewed_version", None)
        if v:
            services.character_update(actor=request.user, character_id=character_id, **v)
        if viewed is not None:
            services.version_view(actor=request.user, character_id=character_id, version_id=viewed)
        character = selectors.character_get(user=request.user, character_id=character_id)
        return Response(CharacterDetailSerializer(character, context={"request": request}).data)

    @extend_schema(responses={204: None})
    def delete(self, request, character_id: int):
        services.character_delete(actor=request.user, character_id=character_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class VersionListGenerateApi(SubmitThrottledMixin, APIView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    class FilterSerializer(serializers.Serializer):
        status = choice_filter_field("Status", Status.choices)

    class GenerateSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CharacterVersionGenerate"

        version_name = TextField(max_length=255, required=False, allow_blank=True)
        template = serializers.ChoiceField(choices=TemplateType.choices, required=False)
        art_style = serializers.ChoiceField(choices=ArtStyle.choices, default=ArtStyle.REALISTIC)
        aspect_ratio = serializers.ChoiceField(choices=Size.choices, default=Size.SQUARE)
        additional_description = TextField(
            required=False, allow_blank=True, default="", max_length=2000
        )
        character_reference = serializers.FileField(required=False)
        character_reference_url = serializers.URLField(
            required=False, allow_blank=True, default="", max_length=2000
        )
        background_reference = serializers.FileField(required=False)
        background_reference_url = serializers.URLField(
            required=False, allow_blank=True, default="", max_length=2000
        )
        regenerate_from = serializers.IntegerField(
            required=False, help_text="A version id: reuse its saved parameters and references"
        )

        def validate(self, attrs):
            if not attrs.get("regenerate_from") and not attrs.get("template"):
                raise serializers.ValidationError({"template": "This field is required."})
            return attrs

    @extend_schema(
        parameters=[OpenApiParameter("status", enum=Status.values, required=False)],
        responses=VersionSerializer(many=True),
    )
    def get(self, request, character_id: int):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return paginated(
            request=request,
            view=self,
            queryset=selectors.version_list(
                user=request.user,
                character_id=character_id,
                status=filters.validated_data.get("status"),
            ),
            serializer_class=VersionSerializer,
        )

    @extend_schema(request=GenerateSerializer, responses={202: VersionSerializer})
    def post(self, request, character_id: int):
        data = self.GenerateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        if v.get("regenerate_from"):
            version, _ = services.version_regenerate(
                actor=request.user,
                character_id=character_id,
                version_id=v["regenerate_from"],
                version_name=v.get("version_name", ""),
                idempotency_key=client_key(request),
            )
        else:
            version, _ = services.version_generate(
                actor=request.user,
                character_id=character_id,
                template=v["template"],
                art_style=v["art_style"],
                aspect_ratio=v["aspect_ratio"],
                version_name=v.get("version_name", ""),
                additional_description=v["additional_description"],
                character_reference=v.get("character_reference"),
                character_reference_url=v["character_reference_url"],
                background_reference=v.get("background_reference"),
                background_reference_url=v["background_reference_url"],
                idempotency_key=client_key(request),
            )
        version = selectors.version_get(
            user=request.user, character_id=character_id, version_id=version.pk
        )
        return Response(VersionSerializer(version).data, status=status.HTTP_202_ACCEPTED)


class VersionDetailApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CharacterVersionRename"

        version_name = TextField(max_length=255)

    @extend_schema(responses=VersionSerializer)
    def get(self, request, character_id: int, version_id: int):
        version = selectors.version_get(
            user=request.user, character_id=character_id, version_id=version_id
        )
        return Response(VersionSerializer(version).data)

    @extend_schema(request=InputSerializer, responses=VersionSerializer)
    def patch(self, request, character_id: int, version_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.version_rename(
            actor=request.user,
            character_id=character_id,
            version_id=version_id,
            version_name=data.validated_data["version_name"],
        )
        return Response(VersionSerializer(version).data)

    @extend_schema(responses={204: None})
    def delete(self, request, character_id: int, version_id: int):
        services.version_delete(
            actor=request.user, character_id=character_id, version_id=version_id
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class VersionActivateApi(APIView):
    @extend_schema(request=None, responses=VersionSerializer)
    def post(self, request, character_id: int, version_id: int):
        version = services.version_activate(
            actor=request.user, character_id=character_id, version_id=version_id
        )
        return Response(VersionSerializer(version).data)
