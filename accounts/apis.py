"""The signed-in user's own endpoints: profile summary, credit history, rewards."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from common.api import client_key, created, idempotency_key, paginated
from credits import selectors as credits_selectors


class MeTeamSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="membership.team.id")
    name = serializers.CharField(source="membership.team.name")
    slug = serializers.CharField(source="membership.team.slug")
    is_personal = serializers.BooleanField(source="membership.team.is_personal")
    role = serializers.CharField(source="membership.role")
    balance = serializers.IntegerField(help_text="Credits you can spend in this team now.")
    held = serializers.IntegerField(
        help_text="Credits your running jobs set aside: charged per delivered image, "
        "the rest comes back to `balance`."
    )


class MeApi(APIView):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField(source="user.id")
        email = serializers.EmailField(source="user.email")
        name = serializers.CharField(source="user.display_name")
        is_staff = serializers.BooleanField(source="user.is_staff")
        teams = MeTeamSerializer(many=True)
        total_balance = serializers.IntegerField()
        credits_spent = serializers.IntegerField()
        headshots_generated = serializers.IntegerField()

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        return Response(self.OutputSerializer(selectors.user_summary(user=request.user)).data)


class CreditLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    team_id = serializers.IntegerField(source="account.team_id")
    amount = serializers.IntegerField()
    type = serializers.CharField(source="transaction.category")
    kind = serializers.CharField(source="transaction.kind")
    memo = serializers.CharField(source="transaction.memo")
    reference = serializers.CharField(source="transaction.reference")
    created_at = serializers.DateTimeField(source="transaction.created_at")


class CreditHistoryApi(APIView):
    class FilterSerializer(serializers.Serializer):
        type = serializers.ChoiceField(choices=credits_selectors.HISTORY_TYPES, required=False)

    @extend_schema(
        parameters=[OpenApiParameter("type", enum=credits_selectors.HISTORY_TYPES, required=False)],
        responses=CreditLineSerializer(many=True),
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        lines = credits_selectors.history_for_user(
            user_id=request.user.id, category=filters.validated_data.get("type")
        )
        return paginated(
            request=request, view=self, queryset=lines, serializer_class=CreditLineSerializer
        )


class CreditRewardApi(APIView):
    class OutputSerializer(serializers.Serializer):
        transaction_id = serializers.IntegerField(source="transaction.id")
        amount = serializers.SerializerMethodField()
        replayed = serializers.SerializerMethodField()

        def get_amount(self, movement) -> int:
            return max(e.amount for e in movement.transaction.entries.all())

        def get_replayed(self, movement) -> bool:
            return not movement.created

    @extend_schema(request=None, responses={201: OutputSerializer})
    def post(self, request):
        if client_key(request) is None:
            raise serializers.ValidationError(
                {"Idempotency-Key": "Send the ad impression id as the Idempotency-Key header."}
            )
        movement = services.user_reward_claim(user=request.user, key=idempotency_key(request))
        return created(self.OutputSerializer(movement).data)
