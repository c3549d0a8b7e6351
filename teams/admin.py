"""Teams and memberships in admin, with balances and manual credit adjustments.

Memberships are shown, not edited, here: joining, leaving and role changes carry rules
(the last admin stays, a leaver's credits go back to the pool) that live in
teams.services. Adjustments go through staff.services (ledger + audit log).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from common.errors import ApplicationError
from credits.models import Account, AccountKind
from staff import services as staff_services
from staff.forms import AdjustForm
from teams.models import Invitation, Membership, Team, TeamRemoval


def _member_balance() -> Subquery:
    return Subquery(
        Account.objects.filter(
            kind=AccountKind.MEMBER, team_id=OuterRef("team_id"), user_id=OuterRef("user_id")
        ).values("balance")[:1]
    )


def _adjust(request, *, team_id: int, user_id: int | None, form: AdjustForm, key: str) -> bool:
    try:
        log = staff_services.staff_credits_adjust(
            actor=request.user,
            team_id=team_id,
            user_id=user_id,
            amount=form.cleaned_data["amount"],
            reason=form.cleaned_data["reason"],
            key=key,
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return False
    messages.success(request, f"Adjusted {log.target_repr} by {log.amount:+d} credits.")
    return True


def _adjust_page(
    request,
    model_admin,
    *,
    title: str,
    target: str,
    balance: int | None,
    form: AdjustForm,
    back_url: str,
    selected=None,
    action: str = "",
) -> TemplateResponse:
    """The adjustment form; as an admin action it carries the selected rows along."""
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
        "target": target,
        "balance": balance,
        "form": form,
        "back_url": back_url,
        "selected": selected,
        "action": action,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/staff/adjust.html", context)


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ("user", "role", "balance", "adjust", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("user").annotate(balance=_member_balance())
        )

    @admin.display(description="Balance")
    def balance(self, obj: Membership) -> int:
        return obj.balance or 0

    @admin.display(description="")
    def adjust(self, obj: Membership) -> str:
        url = reverse("admin:teams_membership_adjust", args=[obj.pk])
        return format_html('<a href="{}">Adjust credits…</a>', url)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_personal", "member_count", "pool", "created_at")
    list_filter = ("is_personal", "created_at")
    search_fields = ("name", "slug", "=id")
    readonly_fields = ("is_personal", "created_by", "pool", "created_at", "updated_at")
    fields = ("name", "slug", "is_personal", "created_by", "pool", "created_at", "updated_at")
    inlines = [MembershipInline]
    change_form_template = "admin/teams/team/change_form.html"

    def has_add_permission(self, request) -> bool:
        return False  # a team is made by its creator (teams.services makes them admin)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the ledger and generations refer to it

    def get_queryset(self, request):
        pool = Subquery(
            Account.objects.filter(kind=AccountKind.POOL, team_id=OuterRef("pk")).values("balance")[
                :1
            ]
        )
        return (
            super()
            .get_queryset(request)
            .annotate(pool_balance=pool, member_total=Count("memberships"))
        )

    @admin.display(description="Members", ordering="member_total")
    def member_count(self, obj: Team) -> int:
        return obj.member_total

    @admin.display(description="Pool", ordering="pool_balance")
    def pool(self, obj: Team) -> int:
        return obj.pool_balance or 0

    def get_urls(self):
        view = self.admin_site.admin_view(self.adjust_pool_view)
        return [
            path("<int:object_id>/adjust/", view, name="teams_team_adjust"),
            *super().get_urls(),
        ]

    def adjust_pool_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        team = get_object_or_404(self.get_queryset(request), pk=object_id)
        back = reverse("admin:teams_team_change", args=[team.pk])
        form = AdjustForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            key = f"admin:{form.cleaned_data['key']}:team:{team.pk}"
            if _adjust(request, team_id=team.pk, user_id=None, form=form, key=key):
                return HttpResponseRedirect(back)
        return _adjust_page(
            request,
            self,
            title=f"Adjust the pool of {team}",
            target=f"pool of {team}",
            balance=team.pool_balance or 0,
            form=form,
            back_url=back,
        )


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "team", "role", "balance", "created_at")
    list_filter = ("role", "team__is_personal")
    search_fields = ("user__email", "team__name", "=team__id")
    list_select_related = ("user", "team")
    readonly_fields = ("team", "user", "role", "balance", "created_at", "updated_at")
    actions = ["adjust_credits"]
    change_form_template = "admin/teams/membership/change_form.html"

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(balance=_member_balance())

    @admin.display(description="Balance", ordering="balance")
    def balance(self, obj: Membership) -> int:
        return obj.balance or 0

    def get_urls(self):
        view = self.admin_site.admin_view(self.adjust_view)
        return [
            path("<int:object_id>/adjust/", view, name="teams_membership_adjust"),
            *super().get_urls(),
        ]

    def adjust_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """One member's allocation up or down, with a reason."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        membership = get_object_or_404(
            self.get_queryset(request).select_related("user", "team"), pk=object_id
        )
        back = reverse("admin:teams_membership_change", args=[membership.pk])
        form = AdjustForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            key = f"admin:{form.cleaned_data['key']}:member:{membership.pk}"
            if _adjust(
                request,
                team_id=membership.team_id,
                user_id=membership.user_id,
                form=form,
                key=key,
            ):
                return HttpResponseRedirect(back)
        return _adjust_page(
            request,
            self,
            title=f"Adjust credits of {membership.user} in {membership.team}",
            target=f"{membership.user} in {membership.team}",
            balance=membership.balance or 0,
            form=form,
            back_url=back,
        )

    @admin.action(description="Adjust credits of selected members…", permissions=["change"])
    def adjust_credits(
        self, request: HttpRequest, queryset: QuerySet[Membership]
    ) -> HttpResponse | None:
        form = AdjustForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            for membership in queryset.select_related("user", "team").order_by("pk"):
                key = f"admin:{form.cleaned_data['key']}:member:{membership.pk}"
                _adjust(
                    request,
                    team_id=membership.team_id,
                    user_id=membership.user_id,
                    form=form,
                    key=key,
                )
            return None
        return _adjust_page(
            request,
            self,
            title="Adjust credits of members",
            target="each member below",
            balance=None,
            form=form,
            back_url=reverse("admin:teams_membership_changelist"),
            selected=queryset.select_related("user", "team").annotate(balance=_member_balance()),
            action="adjust_credits",
        )


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("email", "team", "role", "status", "invited_by", "expires_at", "accepted_at")
    list_filter = ("status", "role")
    search_fields = ("email", "team__name")
    list_select_related = ("team", "invited_by")
    readonly_fields = [f.name for f in Invitation._meta.fields if f.name != "id"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(TeamRemoval)
class TeamRemovalAdmin(admin.ModelAdmin):
    """Who a team admin removed (invite links refuse them). Deleting a row lets them back
    in through a link; an accepted e-mail invitation deletes it too."""

    list_display = ("user", "team", "removed_by", "removed_at")
    search_fields = ("user__email", "team__name")
    list_select_related = ("user", "team", "removed_by")
    readonly_fields = ("team", "user", "removed_by", "removed_at")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
