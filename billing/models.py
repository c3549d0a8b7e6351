"""Credit packages and the payments that buy them.

A Payment is our record of one Stripe Checkout Session: created pending when the
session is created, marked paid exactly once when the credits are granted, and
refunded (fully or partly) when Stripe says the charge was refunded. Credits move only
through credits.services; these rows say which money bought which credits.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q

from common.models import TimeStampedModel
from credits.services import MAX_AMOUNT


class CreditPackage(TimeStampedModel):
    """A pack admins can buy. A custom package prices any quantity within its bounds."""

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=60)
    description = models.CharField(max_length=200, blank=True)
    credits = models.PositiveIntegerField(
        default=0,
        help_text="Credits in the pack (0 for a custom package).",
        validators=[MaxValueValidator(MAX_AMOUNT)],  # one purchase grants at most this
    )
    price_cents = models.PositiveIntegerField(
        default=0, help_text="Price of the pack in cents (0 for a custom package)."
    )
    currency = models.CharField(max_length=3, default="usd")
    is_custom = models.BooleanField(
        default=False, help_text="The buyer picks the quantity; priced per credit."
    )
    price_per_credit_cents = models.PositiveIntegerField(default=0)
    min_credits = models.PositiveIntegerField(default=0)
    max_credits = models.PositiveIntegerField(default=0, validators=[MaxValueValidator(MAX_AMOUNT)])
    active = models.BooleanField(default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(is_custom=False, credits__gt=0, price_cents__gt=0)
                    | Q(
                        is_custom=True,
                        price_per_credit_cents__gt=0,
                        min_credits__gt=0,
                        max_credits__gte=models.F("min_credits"),
                    )
                ),
                name="billing_package_is_priced",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.currency = (self.currency or "").lower()
        if self.is_custom:
            errors = {}
            if not self.price_per_credit_cents:
                errors["price_per_credit_cents"] = "A custom package needs a price per credit."
            if not self.min_credits:
                errors["min_credits"] = "A custom package needs a minimum quantity."
            if self.max_credits < self.min_credits:
                errors["max_credits"] = "The maximum must be at least the minimum."
            if errors:
                raise ValidationError(errors)
        else:
            errors = {}
            if not self.credits:
                errors["credits"] = "A pack needs a number of credits."
            if not self.price_cents:
                errors["price_cents"] = "A pack needs a price."
            if errors:
                raise ValidationError(errors)


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PAID = "paid", "Paid"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUNDED = "refunded", "Refunded"


class FulfilledVia(models.TextChoices):
    WEBHOOK = "webhook", "Stripe webhook"
    SUCCESS_PAGE = "success_page", "Success page"


class Payment(TimeStampedModel):
    team = models.ForeignKey("teams.Team", on_delete=models.PROTECT, related_name="payments")
    package = models.ForeignKey(CreditPackage, on_delete=models.PROTECT, related_name="payments")
    credits = models.PositiveIntegerField()
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PENDING, db_index=True
    )
    stripe_session_id = models.CharField(max_length=255, unique=True)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    stripe_charge_id = models.CharField(max_length=255, blank=True, db_index=True)
    receipt_url = models.URLField(max_length=1000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    fulfilled_via = models.CharField(max_length=20, choices=FulfilledVia.choices, blank=True)
    fulfilment_event_id = models.CharField(
        max_length=255, blank=True, help_text="The Stripe event that granted the credits, if any."
    )
    amount_refunded_cents = models.PositiveIntegerField(default=0)
    credits_refunded = models.PositiveIntegerField(
        default=0, help_text="Credits the refunds asked back: taken from the pool plus owed."
    )
    credits_owed = models.PositiveIntegerField(
        default=0, help_text="Of those, credits already spent: recorded as owed."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(credits__gt=0) & Q(amount_cents__gt=0), name="billing_payment_positive"
            ),
            models.CheckConstraint(
                condition=Q(amount_refunded_cents__lte=models.F("amount_cents"))
                & Q(credits_refunded__lte=models.F("credits"))
                & Q(credits_owed__lte=models.F("credits_refunded")),
                name="billing_payment_refund_within_purchase",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.credits} credits for {self.team} ({self.get_status_display()})"


class LowCreditNotice(models.Model):
    """The e-mail telling a team's admins its credits are running low. One stays open until
    the team buys its way back above the threshold, so a team that stays low (or dips
    while jobs hold credits) is told once."""

    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="+")
    credits_left = models.PositiveIntegerField()
    sent_at = models.DateTimeField(auto_now_add=True)
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["team"],
                condition=Q(cleared_at__isnull=True),
                name="billing_one_open_low_credit_notice",
            )
        ]

    def __str__(self) -> str:
        return f"low-credit notice to {self.team_id} ({self.credits_left} left)"
