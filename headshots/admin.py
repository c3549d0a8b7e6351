"""Headshots in admin: styles (order, price, sample), team policies, generations and refunds.

Thin: the refund pages and the action collect a reason and call
`staff.services.staff_headshot_refund`, which moves the credits and writes the audit log.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from common.errors import ApplicationError
from headshots import files, services
from headshots.models import GeneratedImage, HeadshotGeneration, HeadshotStyle, TeamStylePolicy
from staff import services as staff_services
from staff.forms import BulkRefundForm, RefundForm


def _thumbnail(field, *, height: int = 80) -> str:
    url = files.file_url(field) if field else None
    if not url:
        return "-"
    return format_html(
        '<a href="{}" target="_blank"><img src="{}" alt="" style="height:{}px;border-radius:3px"></a>',
        url,
        url,
        height,
    )


@admin.register(HeadshotStyle)
class HeadshotStyleAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "sample_preview",
        "slug",
        "category",
        "base_cost",
        "is_premium",
        "is_active",
        "sort_order",
    )
    list_editable = ("base_cost", "is_premium", "is_active", "sort_order")
    list_filter = ("category", "is_active", "is_premium")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("sample_preview",)
    actions = ["render_sample"]

    @admin.display(description="Sample")
    def sample_preview(self, obj: HeadshotStyle) -> str:
        return _thumbnail(obj.sample, height=72)

    @admin.action(description="Render sample (studio engine, astronaut photo)")
    def render_sample(self, request: HttpRequest, queryset: QuerySet[HeadshotStyle]) -> None:
        done = []
        for style in queryset:
            try:
                services.style_render_sample(style_id=style.pk)
            except ApplicationError as error:
                self.message_user(request, f"{style.name}: {error.message}", messages.ERROR)
            else:
                done.append(style.name)
        if done:
            self.message_user(request, f"Rendered a new sample for: {', '.join(done)}.")


@admin.register(TeamStylePolicy)
class TeamStylePolicyAdmin(admin.ModelAdmin):
    list_display = ("team", "backdrop")
    filter_horizontal = ("allowed_styles",)
    raw_id_fields = ("team",)


class GeneratedImageInline(admin.TabularInline):
    model = GeneratedImage
    extra = 0
    can_delete = False
    fields = (
        "preview",
        "index",
        "width",
        "height",
        "engine",
        "identity_score",
        "quality_score",
        "attempts",
        "credits",
        "refunded_at",
        "deleted_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Image")
    def preview(self, obj: GeneratedImage) -> str:
        return _thumbnail(obj.thumbnail or obj.image)


@admin.register(HeadshotGeneration)
class HeadshotGenerationAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "user",
        "team",
        "style",
        "status",
        "progress",
        "credits_held",
        "credits_used",
        "credits_refunded",
        "processing_ms",
        "created_at",
    )
    list_filter = (
        "status",
        "style",
        ("team", admin.RelatedOnlyFieldListFilter),
        "quality",
        "created_at",
    )
    date_hierarchy = "created_at"
    search_fields = ("=id", "user__email", "team__name")
    raw_id_fields = ("user", "team")
    readonly_fields = [f.name for f in HeadshotGeneration._meta.fields]
    inlines = [GeneratedImageInline]
    list_select_related = ("user", "team", "style")
    actions = ["refund_generations"]
    change_form_template = "admin/headshots/headshotgeneration/change_form.html"

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # credits and files settle through services; members soft-delete

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Every field is read-only: the page is for reading and for its Refund button.
        extra_context = {**(extra_context or {}), "show_save": False}
        extra_context["show_save_and_continue"] = False
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        refund = self.admin_site.admin_view(self.refund_view)
        return [
            path("<int:object_id>/refund/", refund, name="headshots_headshotgeneration_refund"),
            *super().get_urls(),
        ]

    def refund_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """The change page's Refund button: a reason, and optionally which images."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        generation = get_object_or_404(
            HeadshotGeneration.objects.select_related("user", "team", "style"), pk=object_id
        )
        images = list(generation.images.all())
        open_images = [image for image in images if image.refunded_at is None]
        choices = [
            (image.pk, f"Image {image.index + 1} ({image.credits} credits)")
            for image in open_images
        ]
        form = RefundForm(request.POST or None, image_choices=choices)
        change_url = reverse("admin:headshots_headshotgeneration_change", args=[generation.pk])
        if request.method == "POST" and form.is_valid():
            try:
                log = staff_services.staff_headshot_refund(
                    actor=request.user,
                    generation_id=generation.pk,
                    reason=form.cleaned_data["reason"],
                    image_ids=form.image_ids(),
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(
                    request,
                    f"Refunded {log.amount} credits to {generation.user} "
                    f"(headshot #{generation.pk}).",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Refund headshot #{generation.pk}",
            "generation": generation,
            "images": [(image, _thumbnail(image.thumbnail or image.image)) for image in images],
            "refundable": sum(image.credits for image in open_images),
            "form": form,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/headshots/headshotgeneration/refund.html", context)

    @admin.action(description="Refund selected generations in full…", permissions=["change"])
    def refund_generations(
        self, request: HttpRequest, queryset: QuerySet[HeadshotGeneration]
    ) -> HttpResponse | None:
        """Ask for one reason, then refund each selected generation; report each outcome."""
        form = BulkRefundForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            refunded, refused = [], []
            for generation in queryset.order_by("pk"):
                try:
                    log = staff_services.staff_headshot_refund(
                        actor=request.user,
                        generation_id=generation.pk,
                        reason=form.cleaned_data["reason"],
                    )
                except ApplicationError as error:
                    refused.append(f"#{generation.pk}: {error.message}")
                else:
                    refunded.append(f"#{generation.pk} ({log.amount} credits)")
            if refunded:
                self.message_user(request, f"Refunded {', '.join(refunded)}.", messages.SUCCESS)
            for line in refused:
                self.message_user(request, f"Not refunded {line}", messages.WARNING)
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Refund generations",
            "generations": queryset.select_related("user", "style"),
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request, "admin/headshots/headshotgeneration/refund_action.html", context
        )
