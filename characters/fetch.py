"""Fetch a reference image from a URL a member pasted, without becoming a proxy into our
own network (SSRF).

Every hop is checked before we connect: http(s) only, no credentials in the URL, the
host resolved here and *every* address it resolves to must be public (not private,
loopback, link-local, shared, multicast, reserved or unspecified, IPv4-mapped included).
We then connect to the address we checked, not to the name again, so a DNS answer that
changes between check and connect (rebinding) cannot sneak in; TLS still verifies the
certificate against the host name. Redirects are followed by hand, each target checked
the same way, at most `max_redirects` of them. The body is read in chunks up to
`max_bytes` under one deadline for the whole fetch (each socket read may also wait at
most 5 s, so a stalled server is dropped even mid-chunk).
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import certifi
import urllib3

from common.errors import ApplicationError

REDIRECTS = (301, 302, 303, 307, 308)
USER_AGENT = "PortraitStudio-ReferenceFetcher/1.0"
CHUNK = 64 * 1024

Resolver = Callable[[str, int], Iterable[str]]
AddressCheck = Callable[[ipaddress.IPv4Address | ipaddress.IPv6Address], bool]


class ReferenceFetchError(ApplicationError):
    """The URL cannot be used; the message says why in plain words."""

    status = 400
    code = "reference_url_refused"


@dataclass(frozen=True)
class Fetched:
    data: bytes
    content_type: str
    final_url: str
    redirects: int


def address_allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True only for a globally routable unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return address_allowed(mapped)
        if address.teredo is not None:
            return False
    return bool(
        address.is_global
        and not address.is_private
        and not address.is_loopback
        and not address.is_link_local
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_unspecified
    )


def resolve(host: str, port: int) -> list[str]:
    """Every address a host name resolves to (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str
    host_header: str


def _check(url: str, *, resolver: Resolver, allow: AddressCheck) -> _Target:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ReferenceFetchError(
            "That is not a valid URL.", code="reference_url_invalid"
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ReferenceFetchError(
            "Only http:// and https:// image links can be used.", code="reference_url_invalid"
        )
    if parts.username or parts.password:
        raise ReferenceFetchError(
            "Links with a user name or password cannot be used.", code="reference_url_invalid"
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ReferenceFetchError("That link has no host name.", code="reference_url_invalid")
    port = port or (443 if scheme == "https" else 80)
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = list(resolver(host, port))
        except (OSError, UnicodeError):
            raise ReferenceFetchError(
                f"We could not find the host {host}.", code="reference_url_unreachable"
            ) from None
        if not addresses:
            raise ReferenceFetchError(
                f"We could not find the host {host}.", code="reference_url_unreachable"
            )
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if not allow(address):
            raise ReferenceFetchError(
                "That link points to a private or local network address; use a public "
                "image link or upload the file.",
                code="reference_url_private",
            )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    default_port = 443 if scheme == "https" else 80
    host_header = host if port == default_port else f"{host}:{port}"
    if ":" in host and not host.startswith("["):
        host_header = f"[{host}]" if port == default_port else f"[{host}]:{port}"
    return _Target(scheme, host, port, path, addresses[0], host_header)


def _pool(target: _Target, timeout: urllib3.Timeout) -> urllib3.HTTPConnectionPool:
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
        )
    return urllib3.HTTPConnectionPool(
        target.address, target.port, timeout=timeout, retries=False, maxsize=1
    )


def fetch_image(
    url: str,
    *,
    max_bytes: int,
    timeout: float = 10.0,
    max_redirects: int = 3,
    resolver: Resolver = resolve,
    allow: AddressCheck | None = None,
) -> Fetched:
    """The bytes of the image at `url`, or ReferenceFetchError saying why not.

    `resolver` and `allow` exist for tests (a local server is on a loopback address
    that the default rightly refuses); production callers leave them alone.
    """
    allow = allow or address_allowed
    deadline = time.monotonic() + timeout
    current = url.strip()
    for hop in range(max_redirects + 1):
        target = _check(current, resolver=resolver, allow=allow)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _timed_out()
        pool = _pool(target, urllib3.Timeout(connect=min(remaining, 5.0), read=min(remaining, 5.0)))
        try:
            response = pool.urlopen(
                "GET",
                target.path,
                headers={
                    "Host": target.host_header,
                    "User-Agent": USER_AGENT,
                    "Accept": "image/*",
                },
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
        except urllib3.exceptions.TimeoutError:
            pool.close()
            raise _timed_out() from None
        except urllib3.exceptions.HTTPError as error:
            pool.close()
            raise ReferenceFetchError(
                f"We could not download that link ({type(error).__name__}).",
                code="reference_url_unreachable",
            ) from None
        try:
            if response.status in REDIRECTS:
                location = response.headers.get("Location")
                if not location:
                    raise ReferenceFetchError(
                        "That link redirects nowhere.", code="reference_url_unreachable"
                    )
                current = urljoin(current, location)
                continue
            if response.status != 200:
                raise ReferenceFetchError(
                    f"That link answered {response.status} instead of an image.",
                    code="reference_url_unreachable",
                )
            content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip()
            if content_type and not (
                content_type.startswith("image/") or content_type == "application/octet-stream"
            ):
                raise ReferenceFetchError(
                    f"That link is a {content_type} page, not an image. Use the image's own "
                    "address (right-click the picture, copy image address).",
                    code="reference_url_not_image",
                )
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise _too_large(max_bytes)
            data = _read_capped(response, max_bytes=max_bytes, deadline=deadline)
            return Fetched(data=data, content_type=content_type, final_url=current, redirects=hop)
        finally:
            response.release_conn()
            pool.close()
    raise ReferenceFetchError(
        f"That link redirects more than {max_redirects} times.", code="reference_url_redirects"
    )


def _read_capped(response, *, max_bytes: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            if time.monotonic() > deadline:
                raise _timed_out()
            chunk = response.read1(CHUNK)  # one recv at most: the deadline is checked often
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise _too_large(max_bytes)
            chunks.append(chunk)
    except urllib3.exceptions.TimeoutError:
        raise _timed_out() from None
    except urllib3.exceptions.HTTPError:
        raise ReferenceFetchError(
            "The download of that link broke off.", code="reference_url_unreachable"
        ) from None
    return b"".join(chunks)


def _timed_out() -> ReferenceFetchError:
    return ReferenceFetchError(
        "That link took too long to download; upload the file instead.",
        code="reference_url_timeout",
    )


def _too_large(max_bytes: int) -> ReferenceFetchError:
    return ReferenceFetchError(
        f"That image is larger than {max_bytes // (1024 * 1024)} MB.",
        code="reference_url_too_large",
    )
