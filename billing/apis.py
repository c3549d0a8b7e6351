"""Billing endpoints: the package list and Stripe Checkout. Thin: validate, call, serialise."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from billing import selectors, services
from common.api import created, paginated


class CreditPackageListApi(APIView):
    class OutputSerializer(serializers.Serializer):
        slug = serializers.SlugField()
        name = serializers.CharField()
        description = serializers.CharField()
        is_custom = serializers.BooleanField()
        credits = serializers.IntegerField(help_text="Credits in a pack; 0 for a custom amount.")
        price_cents = serializers.IntegerField(help_text="Price of a pack; 0 for a custom amount.")
        currency = serializers.CharField()
        price_per_credit_cents = serializers.IntegerField()
        min_credits = serializers.IntegerField()
        max_credits = serializers.IntegerField()
        price_display = serializers.SerializerMethodField()

        def get_price_display(self, package) -> str:
            if package.is_custom:
                per_credit = selectors.format_money(
                    package.price_per_credit_cents, package.currency
                )
                return f"{per_credit} a credit"
            return selectors.format_money(package.price_cents, package.currency)

    @extend_schema(
        summary="Credit packages on sale",
        description=(
            "The active packs and the custom amount. Not secret, but like every endpoint "
            "it needs a signed-in user (session or X-Session-Token)."
        ),
        responses=OutputSerializer(many=True),
    )
    def get(self, request):
        return paginated(
            request=request,
            view=self,
            queryset=selectors.package_list(),
            serializer_class=self.OutputSerializer,
        )


class CheckoutCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        team = serializers.IntegerField(help_text="The team the credits are for.")
        package = serializers.SlugField(help_text="A package slug from /billing/packages.")
        quantity = serializers.IntegerField(
            required=False,
            min_value=1,
            help_text="Credits to buy; only (and always) for the custom package.",
        )

    class OutputSerializer(serializers.Serializer):
        url = serializers.URLField(help_text="Send the buyer here: Stripe's hosted checkout.")
        session_id = serializers.CharField(source="payment.stripe_session_id")
        payment_id = serializers.IntegerField(source="payment.id")
        credits = serializers.IntegerField(source="payment.credits")
        amount_cents = serializers.IntegerField(source="payment.amount_cents")
        currency = serializers.CharField(source="payment.currency")

    @extend_schema(
        summary="Start a Stripe Checkout for a team's credits (team admin)",
        description=(
            "Creates a Stripe Checkout Session (one-time payment) and a pending payment. "
            "The credits land in the team pool (a personal team: your own balance) when "
            "Stripe confirms the payment, by webhook or when you come back to the success page."
        ),
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            400: OpenApiResponse(description="Unknown package or bad quantity."),
            403: OpenApiResponse(description="You are a member, not an admin, of the team."),
            404: OpenApiResponse(description="No such team (or not yours)."),
            503: OpenApiResponse(
                description="Stripe is not configured (code stripe_not_configured)."
            ),
        },
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        checkout = services.checkout_create(
            actor=request.user,
            team_id=data.validated_data["team"],
            package_slug=data.validated_data["package"],
            quantity=data.validated_data.get("quantity"),
            site_url=request.build_absolute_uri("/"),
        )
        return created(self.OutputSerializer(checkout).data)
