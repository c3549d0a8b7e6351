"""Staff endpoints under /api/v1/admin/: refunds, credit adjustments, analytics.

Staff only: anonymous callers get 401, signed-in non-staff 403 (DRF's IsAdminUser is the
`is_staff` check; the services check again, so no other caller can slip past).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import TextField, created, id_field, idempotency_key
from staff import selectors, services


class StaffApi(APIView):
    permission_classes = [IsAdminUser]


class AuditLogSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    action = serializers.CharField()
    actor_id = serializers.IntegerField()
    target_type = serializers.CharField()
    target_id = serializers.CharField()
    team_id = serializers.IntegerField(allow_null=True)
    user_id = serializers.IntegerField(allow_null=True)
    amount = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField()
    ledger_keys = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()


class StaffHeadshotRefundApi(StaffApi):
    class InputSerializer(serializers.Serializer):
        reason = TextField(max_length=services.REASON_MAX_LENGTH)
        image_ids = serializers.ListField(
            child=id_field(),
            required=False,
            allow_empty=False,
            max_length=16,
        )

    class OutputSerializer(serializers.Serializer):
        generation_id = serializers.IntegerField(source="target_id")
        amount = serializers.IntegerField()
        image_ids = serializers.ListField(child=serializers.IntegerField(), source="data.image_ids")
        status = serializers.CharField(source="data.status")
        credits_refunded = serializers.IntegerField(source="data.credits_refunded")
        audit = AuditLogSerializer(source="*")

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request, generation_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        log = services.staff_headshot_refund(
            actor=request.user,
            generation_id=generation_id,
            reason=data.validated_data["reason"],
            image_ids=data.validated_data.get("image_ids"),
        )
        return created(self.OutputSerializer(log).data)


class NonZeroAmountField(serializers.IntegerField):
    """A whole number of credits, up or down; refuses floats and booleans."""

    def to_internal_value(self, data):
        if isinstance(data, bool | float):
            self.fail("invalid")
        value = super().to_internal_value(data)
        if value == 0:
            raise serializers.ValidationError("The adjustment must not be zero.")
        return value


class StaffCreditsAdjustApi(StaffApi):
    class InputSerializer(serializers.Serializer):
        team_id = id_field()
        user_id = id_field(required=False, allow_null=True)
        amount = NonZeroAmountField(min_value=-1_000_000, max_value=1_000_000)
        reason = TextField(max_length=services.REASON_MAX_LENGTH)

    @extend_schema(
        request=InputSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        responses={201: AuditLogSerializer},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        log = services.staff_credits_adjust(
            actor=request.user,
            team_id=data.validated_data["team_id"],
            user_id=data.validated_data.get("user_id"),
            amount=data.validated_data["amount"],
            reason=data.validated_data["reason"],
            key=idempotency_key(request),
        )
        return created(AuditLogSerializer(log).data)


class StaffMetricsApi(StaffApi):
    class FilterSerializer(serializers.Serializer):
        start = serializers.DateField(required=False)
        end = serializers.DateField(required=False)

    class StyleSerializer(serializers.Serializer):
        slug = serializers.CharField()
        name = serializers.CharField()
        total = serializers.IntegerField()
        completed = serializers.IntegerField()
        failed = serializers.IntegerField()
        refunded = serializers.IntegerField()
        avg_ms = serializers.FloatField(allow_null=True)

    class OutputSerializer(serializers.Serializer):
        start = serializers.DateField()
        end = serializers.DateField()
        generations = serializers.SerializerMethodField()
        rates = serializers.SerializerMethodField()
        processing_ms = serializers.SerializerMethodField()
        images = serializers.SerializerMethodField()
        by_style = serializers.SerializerMethodField()
        by_hour = serializers.ListField(child=serializers.IntegerField())
        by_day = serializers.SerializerMethodField()
        credits = serializers.SerializerMethodField()
        active_teams = serializers.IntegerField()
        active_users = serializers.IntegerField()
        repeat_users = serializers.IntegerField()

        def get_generations(self, m) -> dict:
            return {
                "total": m.total,
                "completed": m.completed,
                "failed": m.failed,
                "refunded": m.refunded,
                "running": m.running,
            }

        def get_rates(self, m) -> dict:
            return {
                "success": m.success_rate,
                "failure": m.failure_rate,
                "refunded": m.refund_rate,
                "identity_rejection": m.rejection_rate,
            }

        def get_processing_ms(self, m) -> dict:
            return {"average": m.avg_ms, "p95": m.p95_ms}

        def get_images(self, m) -> dict:
            return {
                "delivered": m.images,
                "renders": m.renders,
                "identity_rejections": m.identity_rejections,
            }

        def get_by_style(self, m) -> list:
            return StaffMetricsApi.StyleSerializer(m.by_style, many=True).data

        def get_by_day(self, m) -> list:
            return [{"date": day.isoformat(), "generations": n} for day, n in m.by_day]

        def get_credits(self, m) -> dict:
            return {
                "sold": m.credits_sold,
                "spent": m.credits_spent,
                "captured": m.credits_captured,
                "refunded": m.credits_refunded,
                "clawed_back": m.credits_clawed_back,
            }

    @extend_schema(
        parameters=[
            OpenApiParameter("start", str, description="YYYY-MM-DD, inclusive"),
            OpenApiParameter("end", str, description="YYYY-MM-DD, inclusive"),
        ],
        responses=OutputSerializer,
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        start, end = selectors.metrics_range(
            start=filters.validated_data.get("start"), end=filters.validated_data.get("end")
        )
        metrics = selectors.headshot_metrics(start=start, end=end)
        return Response(self.OutputSerializer(metrics).data)
