"""Users in admin: e-mail login (no username), their teams with balances.

A user added here is onboarded like one who signed up (personal team, signup bonus).
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils.html import format_html

from accounts.models import User
from accounts.services import user_onboard
from credits.models import Account, AccountKind
from teams.models import Membership


class UserCreateForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    fields = ("team", "role", "balance", "adjust", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "teams"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        balance = Subquery(
            Account.objects.filter(
                kind=AccountKind.MEMBER, team_id=OuterRef("team_id"), user_id=OuterRef("user_id")
            ).values("balance")[:1]
        )
        return super().get_queryset(request).select_related("team").annotate(balance=balance)

    @admin.display(description="Balance")
    def balance(self, obj: Membership) -> int:
        return obj.balance or 0

    @admin.display(description="")
    def adjust(self, obj: Membership) -> str:
        url = reverse("admin:teams_membership_adjust", args=[obj.pk])
        return format_html('<a href="{}">Adjust credits…</a>', url)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserEditForm
    add_form = UserCreateForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("name",)}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
            },
        ),
    )
    list_display = ("email", "name", "is_staff", "is_active", "date_joined", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("email", "name", "=id")
    ordering = ("email",)
    readonly_fields = ("last_login", "date_joined")
    inlines = [MembershipInline]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the ledger refers to users; deactivate instead

    def save_model(self, request, obj: User, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            user_onboard(user=obj)
