"""URLs for private files: presigned on S3, signed and expiring on local disk.

A URL is only ever built for the owner (the selectors decide who may see an image);
whoever holds it can fetch the file until it expires, exactly like an S3 presigned URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import zlib
from collections.abc import Callable

from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage
from django.db.models.fields.files import FieldFile
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.encoding import force_bytes

# The first token format (JSON {"name": ...}, zlib) under this salt: no longer made, still
# accepted until the last one expires, FILE_URL_SECONDS after the deploy that stopped
# making them; then `_file_name_from_v1_token` and this salt can go.
FILE_SALT = "headshots.file"
# Tokens now: the file name in URL-safe base64, a timestamp and the HMAC, under this salt.
FILE_SALT_V2 = "headshots.file.v2"
SHARE_SALT = "headshots.share"
FILE_URL_SECONDS = 3600


def _is_local() -> bool:
    return (
        hasattr(default_storage, "path")
        and default_storage.__class__.__name__ == "FileSystemStorage"
    )


class _FileSigner(signing.TimestampSigner):
    """Django's TimestampSigner, byte for byte (a plain one with the same salt verifies its
    tokens and the other way round), with the HMAC key derived once per secret instead of
    once per URL: a history page signs 60 of them."""

    def __init__(self):
        super().__init__(salt=FILE_SALT_V2)
        self._macs: dict[str, hmac.HMAC] = {}

    def signature(self, value, key=None):
        key = key or self.key
        mac = self._macs.get(key)
        if mac is None:
            # django.utils.crypto.salted_hmac's key derivation, kept.
            derived = hashlib.sha256(force_bytes(self.salt + "signer") + force_bytes(key))
            mac = self._macs[key] = hmac.new(derived.digest(), digestmod=hashlib.sha256)
        mac = mac.copy()
        mac.update(value.encode())
        return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


_local = threading.local()


def _signer() -> _FileSigner:
    """One signer per thread, made again when the secret keys change (a key rotation in
    tests; in production they are fixed for the process's life)."""
    keys = (settings.SECRET_KEY, tuple(settings.SECRET_KEY_FALLBACKS))
    signer = getattr(_local, "signer", None)
    if signer is None or _local.keys != keys:
        signer, _local.keys = _FileSigner(), keys
        _local.signer = signer
    return signer


def _url_parts() -> tuple[str, str]:
    """What `reverse("headshots:file", args=[token])` puts before and after the token:
    resolved once per script prefix and URLconf instead of once per URL."""
    key = (get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    cached = getattr(_local, "url_parts", None)
    if cached is None or cached[0] != key:
        marker = "0"  # a token never needs quoting either (base64 and ':')
        url = reverse("headshots:file", args=[marker])
        at = url.rindex(marker)
        cached = _local.url_parts = (key, (url[:at], url[at + len(marker) :]))
    return cached[1]


def _encode(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).rstrip(b"=").decode()


def file_token(name: str) -> str:
    """A signed, expiring token for one stored file name (URL-safe: base64 and ':')."""
    return _signer().sign(_encode(name))


def file_urls() -> Callable[[FieldFile | None], str | None]:
    """`file_url` for many files at once (a page's images): the storage, the URL around
    the token, the signer and the timestamp are resolved once, not once a file. The
    tokens are those `file_token` makes in the same second; make one per answer, not per
    process (their hour starts here)."""
    if not _is_local():
        return lambda field: field.url if field else None  # django-storages presigns
    before, after = _url_parts()
    signer = _signer()
    stamp = f"{signer.sep}{signer.timestamp()}"

    def url(field: FieldFile | None) -> str | None:
        if not field:
            return None
        value = _encode(field.name) + stamp
        return f"{before}{value}{signer.sep}{signer.signature(value)}{after}"

    return url


def file_url(field: FieldFile | None) -> str | None:
    return file_urls()(field)


def file_name_from_token(token: str) -> str | None:
    try:
        encoded = _signer().unsign(token, max_age=FILE_URL_SECONDS)
    except signing.BadSignature:
        return _file_name_from_v1_token(token)
    try:
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (ValueError, UnicodeDecodeError):  # binascii.Error is a ValueError
        return None


def _file_name_from_v1_token(token: str) -> str | None:
    """The first format, for the URLs clients still hold (an hour at most)."""
    try:
        return signing.loads(token, salt=FILE_SALT, max_age=FILE_URL_SECONDS)["name"]
    except (signing.BadSignature, KeyError, TypeError, ValueError, zlib.error):
        return None


def share_token(image_id: int) -> str:
    return signing.dumps({"image": image_id}, salt=SHARE_SALT)


def image_id_from_share_token(token: str, *, max_age_seconds: int) -> int | None:
    try:
        return int(signing.loads(token, salt=SHARE_SALT, max_age=max_age_seconds)["image"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
