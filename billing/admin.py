from django.apps import apps
from django.contrib import admin

from billing.models import CreditPackage, Payment
from billing.selectors import format_money

# dj-stripe registers ~40 Stripe models; staff need the few that explain a payment or a
# webhook delivery. (djstripe's admin is imported first: it comes earlier in INSTALLED_APPS.)
DJSTRIPE_MODELS_SHOWN = {
    "Charge",
    "Customer",
    "Event",
    "PaymentIntent",
    "Refund",
    "Session",
    "WebhookEndpoint",
    "WebhookEventTrigger",
}
for _model in apps.get_app_config("djstripe").get_models():
    if _model.__name__ not in DJSTRIPE_MODELS_SHOWN and admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(CreditPackage)
class CreditPackageAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "credits", "price", "is_custom", "active", "sort_order"]
    list_editable = ["active", "sort_order"]
    list_filter = ["active", "is_custom"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = [
        (None, {"fields": ["name", "slug", "description", "active", "sort_order", "currency"]}),
        ("A fixed pack", {"fields": ["credits", "price_cents"]}),
        (
            "A custom amount",
            {"fields": ["is_custom", "price_per_credit_cents", "min_credits", "max_credits"]},
        ),
    ]

    @admin.display(description="Price")
    def price(self, obj: CreditPackage) -> str:
        if obj.is_custom:
            return f"{format_money(obj.price_per_credit_cents, obj.currency)} a credit"
        return format_money(obj.price_cents, obj.currency)


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    """Read-only: payments change only through Stripe events and the billing services."""

    list_display = ["created_at", "team", "package", "credits", "amount", "status", "created_by"]
    list_filter = ["status", "package"]
    search_fields = ["stripe_session_id", "stripe_payment_intent_id", "team__name"]
    list_select_related = ["team", "package", "created_by"]
    date_hierarchy = "created_at"

    @admin.display(description="Amount")
    def amount(self, obj: Payment) -> str:
        return format_money(obj.amount_cents, obj.currency)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
