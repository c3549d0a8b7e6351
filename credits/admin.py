"""The ledger in admin: read-only. Credits move only through credits.services.

Staff refund from a generation's page and adjust from a membership (teams admin); both
go through staff.services and land here as new transactions with actor and reason.
"""

from __future__ import annotations

from django.contrib import admin

from credits.models import Account, Debt, Entry, Hold, Transaction


class LedgerReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class EntryInline(admin.TabularInline):
    model = Entry
    fields = ("account", "amount")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account", "account__user")


@admin.register(Transaction)
class TransactionAdmin(LedgerReadOnly):
    list_display = (
        "id",
        "created_at",
        "kind",
        "category",
        "team_id",
        "actor",
        "memo",
        "reference",
    )
    list_filter = ("kind", "category", "created_at")
    search_fields = ("=id", "idempotency_key", "reference", "memo", "actor__email", "=team_id")
    list_select_related = ("actor",)
    date_hierarchy = "created_at"
    inlines = [EntryInline]
    show_full_result_count = False


@admin.register(Account)
class AccountAdmin(LedgerReadOnly):
    list_display = ("id", "__str__", "kind", "team_id", "user", "system_code", "balance", "held")
    list_filter = ("kind", "system_code")
    search_fields = ("=id", "=team_id", "user__email")
    list_select_related = ("user",)


@admin.register(Hold)
class HoldAdmin(LedgerReadOnly):
    list_display = (
        "key",
        "account",
        "category",
        "reference",
        "memo",
        "amount",
        "captured",
        "released",
        "outstanding",
        "created_at",
    )
    list_filter = ("category", "created_at")
    search_fields = ("key", "reference")
    list_select_related = ("account", "account__user")

    @admin.display(description="Outstanding")
    def outstanding(self, obj: Hold) -> int:
        return obj.outstanding


@admin.register(Debt)
class DebtAdmin(LedgerReadOnly):
    list_display = ("transaction", "team_id", "amount", "created_at")
    search_fields = ("=team_id",)
    list_select_related = ("transaction",)
