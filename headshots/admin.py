from django.contrib import admin

from headshots.models import GeneratedImage, HeadshotGeneration, HeadshotStyle, TeamStylePolicy


@admin.register(HeadshotStyle)
class HeadshotStyleAdmin(admin.ModelAdmin):
    list_display = (
        "name",
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
        "index",
        "width",
        "height",
        "engine",
        "identity_score",
        "quality_score",
        "attempts",
        "credits",
    )
    readonly_fields = fields


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
        "created_at",
    )
    list_filter = ("status", "style", "quality", "created_at")
    search_fields = ("user__email", "team__name")
    raw_id_fields = ("user", "team")
    readonly_fields = [f.name for f in HeadshotGeneration._meta.fields]
    inlines = [GeneratedImageInline]
    list_select_related = ("user", "team", "style")
