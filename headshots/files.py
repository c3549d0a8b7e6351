"""URLs for private files: presigned on S3, signed and expiring on local disk.

A URL is only ever built for the owner (the selectors decide who may see an image);
whoever holds it can fetch the file until it expires, exactly like an S3 presigned URL.
"""

from __future__ import annotations

from django.core import signing
from django.core.files.storage import default_storage
from django.db.models.fields.files import FieldFile
from django.urls import reverse

FILE_SALT = "headshots.file"
SHARE_SALT = "headshots.share"
FILE_URL_SECONDS = 3600


def _is_local() -> bool:
    return (
        hasattr(default_storage, "path")
        and default_storage.__class__.__name__ == "FileSystemStorage"
    )


def file_url(field: FieldFile | None) -> str | None:
    if not field:
        return None
    if not _is_local():
        return field.url  # django-storages presigns with querystring_auth
    token = signing.dumps({"name": field.name}, salt=FILE_SALT, compress=True)
    return reverse("headshots:file", args=[token])


def file_name_from_token(token: str) -> str | None:
    try:
        return signing.loads(token, salt=FILE_SALT, max_age=FILE_URL_SECONDS)["name"]
    except (signing.BadSignature, KeyError, TypeError):
        return None


def share_token(image_id: int) -> str:
    return signing.dumps({"image": image_id}, salt=SHARE_SALT)


def image_id_from_share_token(token: str, *, max_age_seconds: int) -> int | None:
    try:
        return int(signing.loads(token, salt=SHARE_SALT, max_age=max_age_seconds)["image"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
