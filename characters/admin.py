from django.contrib import admin

from characters.models import Character, CharacterImageVersion, ConsistencyPolicy, Project


@admin.register(ConsistencyPolicy)
class ConsistencyPolicyAdmin(admin.ModelAdmin):
    """Staff tune how closely a version must keep its character reference.

    The photographic identity threshold is the site settings' one (shared with headshots).
    """

    list_display = (
        "stylised_identity_threshold",
        "ssim_threshold",
        "max_rerenders",
        "updated_at",
    )

    def has_add_permission(self, request) -> bool:
        return not ConsistencyPolicy.objects.exists()


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "created_by", "created_at")
    search_fields = ("name",)
    raw_id_fields = ("team", "created_by")


@admin.register(Character)
class CharacterAdmin(admin.ModelAdmin):
    list_display = ("name", "project", "created_by", "updated_at")
    search_fields = ("name", "project__name")
    raw_id_fields = ("project", "created_by")


@admin.register(CharacterImageVersion)
class CharacterImageVersionAdmin(admin.ModelAdmin):
    """Read-mostly: versions change only through the services (credits move with them)."""

    list_display = (
        "version_name",
        "character",
        "version_number",
        "is_active",
        "status",
        "template_type",
        "art_style",
        "credit_cost",
        "identity_score",
        "ssim_score",
        "created_at",
    )
    list_filter = ("status", "template_type", "art_style", "is_active")
    search_fields = ("version_name", "character__name")
    raw_id_fields = ("character", "created_by", "team", "regenerated_from")
    readonly_fields = [
        field.name
        for field in CharacterImageVersion._meta.get_fields()
        if field.concrete and field.name != "id"
    ]
