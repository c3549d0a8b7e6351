"""Staff admin: site settings (one row), the audit log (read-only) and the analytics page."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from common.errors import ApplicationError
from staff import charts, selectors, services
from staff.forms import MetricsRangeForm
from staff.models import Analytics, AuditLog, SiteSettings

admin.site.site_header = "Portrait Studio · staff"
admin.site.site_title = "Portrait Studio staff"
admin.site.index_title = "Refunds, styles, credits and settings"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by services only: staff may look, never add, edit or delete."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SiteSettings)
class SiteSettingsAdmin(admin.ModelAdmin):
    fields = [*selectors.SITE_SETTINGS_FIELDS, "deploy_defaults", "updated_at", "updated_by"]
    readonly_fields = ["deploy_defaults", "updated_at", "updated_by"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        """There is one row: the list is its edit page (made from the defaults if new)."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        row = services.site_settings_get_or_create(actor=request.user)
        return HttpResponseRedirect(
            reverse(
                "admin:staff_sitesettings_change", args=[row.pk], current_app=self.admin_site.name
            )
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if self.has_view_or_change_permission(request):
            services.site_settings_get_or_create(actor=request.user)
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj: SiteSettings, form, change: bool) -> None:
        services.site_settings_update(
            actor=request.user,
            **{name: form.cleaned_data[name] for name in selectors.SITE_SETTINGS_FIELDS},
        )

    @admin.display(description="Deploy defaults (config/settings.py)")
    def deploy_defaults(self, obj: SiteSettings) -> str:
        defaults = selectors.site_settings_defaults()
        return ", ".join(f"{name}={value}" for name, value in defaults.items())

    def response_change(self, request, obj):
        self.message_user(
            request, "Saved. The new values apply from the next job and request.", messages.SUCCESS
        )
        return HttpResponseRedirect(request.path)


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "actor",
        "action",
        "target_repr",
        "amount",
        "short_reason",
        "team_id",
        "user",
    ]
    list_filter = ["action", "created_at"]
    search_fields = ["reason", "target_repr", "actor__email", "user__email", "target_id"]
    list_select_related = ["actor", "user"]
    date_hierarchy = "created_at"

    @admin.display(description="Reason")
    def short_reason(self, obj: AuditLog) -> str:
        return obj.reason if len(obj.reason) <= 80 else obj.reason[:79] + "…"


@admin.register(Analytics)
class AnalyticsAdmin(ReadOnlyAdmin):
    """Not a list of rows: its page is the analytics dashboard, for any staff member."""

    def has_module_permission(self, request) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_view_permission(self, request, obj=None) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        form = MetricsRangeForm(request.GET or None)
        metrics, error = None, None
        if form.is_valid() or not request.GET:
            data = form.cleaned_data if form.is_bound else {}
            try:
                start, end = selectors.metrics_range(start=data.get("start"), end=data.get("end"))
            except ApplicationError as exc:
                error = exc.message
            else:
                metrics = selectors.headshot_metrics(start=start, end=end)
                if not form.is_bound:
                    form = MetricsRangeForm(initial={"start": start, "end": end})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Analytics",
            "form": form,
            "error": error,
            "metrics": metrics,
            "charts": _charts(metrics) if metrics else {},
        }
        return TemplateResponse(request, "admin/staff/analytics.html", context)


def _charts(m: selectors.HeadshotMetrics) -> dict:
    every = max(1, len(m.by_day) // 12)
    return {
        "styles": charts.hbar_chart(
            title="Generations per style",
            labels=[s.name for s in m.by_style],
            values=[s.total for s in m.by_style],
        ),
        "outcomes": charts.hbar_chart(
            title="Outcomes",
            labels=["Completed", "Failed", "Refunded", "Running"],
            values=[m.completed, m.failed, m.refunded, m.running],
        ),
        "hours": charts.vbar_chart(
            title="Generations by hour of day (UTC)",
            labels=[f"{h:02d}" for h in range(24)],
            values=m.by_hour,
            label_every=3,
        ),
        "days": charts.vbar_chart(
            title="Generations per day",
            labels=[d.strftime("%m-%d") for d, _ in m.by_day],
            values=[n for _, n in m.by_day],
            label_every=every,
        ),
        "credits": charts.hbar_chart(
            title="Credits",
            labels=["Sold", "Spent", "Refunded", "Clawed back"],
            values=[m.credits_sold, m.credits_spent, m.credits_refunded, m.credits_clawed_back],
        ),
    }
