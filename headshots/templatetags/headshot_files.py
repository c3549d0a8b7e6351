from django import template

from headshots import files

register = template.Library()


@register.filter
def signed_url(field) -> str:
    """A private file's URL for its owner's page (signed locally, presigned on S3)."""
    return files.file_url(field) or ""
