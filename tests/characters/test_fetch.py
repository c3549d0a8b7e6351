"""Reference links are fetched without reaching private or local networks (SSRF)."""

import ipaddress
import time

import pytest

from characters.fetch import ReferenceFetchError, address_allowed, fetch_image
from tests.characters.conftest import jpeg

MB = 1024 * 1024


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.0.0.2",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.10",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT (shared)
        "0.0.0.0",  # noqa: S104 - an address we refuse, not one we bind
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:10.0.0.1",
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2001:db8::1",  # documentation
    ],
)
def test_private_local_and_reserved_addresses_are_refused(address):
    assert not address_allowed(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "151.101.1.69", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address):
    assert address_allowed(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/face.jpg",
        "http://localhost/face.jpg",
        "http://[::1]:8000/face.jpg",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/face.jpg",
        "http://2130706433/face.jpg",  # 127.0.0.1 as one decimal number
        "http://0x7f000001/face.jpg",
    ],
)
def test_links_to_private_or_local_hosts_are_refused_before_connecting(url):
    with pytest.raises(ReferenceFetchError) as error:
        fetch_image(url, max_bytes=MB)
    assert error.value.code in ("reference_url_private", "reference_url_unreachable")
    assert error.value.status == 400


def test_every_address_of_a_name_is_checked():
    """A name with one public and one private address is refused (no lucky pick)."""

    def resolver(host, port):
        return ["93.184.216.34", "10.0.0.7"]

    with pytest.raises(ReferenceFetchError) as error:
        fetch_image("https://images.example.com/a.jpg", max_bytes=MB, resolver=resolver)
    assert error.value.code == "reference_url_private"


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/a.jpg", "file:///etc/passwd", "gopher://x/", "http://user:pw@example.com/"],
)
def test_only_plain_http_links_are_used(url):
    with pytest.raises(ReferenceFetchError) as error:
        fetch_image(url, max_bytes=MB)
    assert error.value.code == "reference_url_invalid"


def test_the_local_server_is_refused_by_the_default_policy(http_server):
    http_server.image("/face.jpg", jpeg())
    with pytest.raises(ReferenceFetchError) as error:
        fetch_image(http_server.url("/face.jpg"), max_bytes=MB)
    assert error.value.code == "reference_url_private"
    assert http_server.hits == []


def _only(host: str):
    """A policy for tests: the one test server's address counts as public."""
    return lambda address: str(address) == host


def test_an_allowed_image_is_downloaded(http_server):
    data = jpeg()
    http_server.image("/face.jpg", data)
    fetched = fetch_image(http_server.url("/face.jpg"), max_bytes=MB, allow=_only("127.0.0.1"))
    assert fetched.data == data
    assert fetched.content_type == "image/jpeg"
    assert fetched.redirects == 0


def test_a_redirect_to_an_allowed_address_is_followed(http_server):
    data = jpeg()
    http_server.image("/face.jpg", data)
    http_server.redirect("/short", "/face.jpg")
    fetched = fetch_image(http_server.url("/short"), max_bytes=MB, allow=_only("127.0.0.1"))
    assert fetched.data == data and fetched.redirects == 1


def test_a_redirect_to_a_private_address_is_refused_and_never_requested(http_server, second_server):
    second_server.image("/secret", b"internal")
    http_server.redirect("/innocent.jpg", second_server.url("/secret"))
    with pytest.raises(ReferenceFetchError) as error:
        fetch_image(http_server.url("/innocent.jpg"), max_bytes=MB, allow=_only("127.0.0.1"))
    assert error.value.code == "reference_url_private"
    assert http_server.hits == ["/innocent.jpg"]
    assert second_server.hits == []


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/iam/",
        "http://127.0.0.53/admin",
        "http://[::ffff:127.0.0.1]/",
        "http://[::1]/",
        "http://10.0.0.1/",
    ],
)
def test_redirects_to_metadata_and_local_hosts_are_refused(http_server, target):
    http_server.redirect("/go", target, status=307)
    with pytest.raises(ReferenceFetchError) as error:
        fetch_image(http_server.url("/go"), max_bytes=MB, allow=_only("127.0.0.1"))
    assert error.value.code == "reference_url_private"


def test_redirect_chains_are_capped(http_server):
    for n in range(5):
        http_server.redirect(f"/r{n}", f"/r{n + 1}")
    http_server.image("/r5", jpeg())
    with pytest.raises(ReferenceFetchError) as error:
        fetch_image(http_server.url("/r0"), max_bytes=MB, max_redirects=3, allow=_only("127.0.0.1"))
    assert error.value.code == "reference_url_redirects"
    assert len(http_server.hits) == 4


def test_a_declared_large_body_is_refused_before_reading(http_server):
    http_server.image("/big.jpg", b"x" * (2 * MB))
    with pytest.raises(ReferenceFetchError) as error:
        fetch_image(http_server.url("/big.jpg"), max_bytes=MB, allow=_only("127.0.0.1"))
    assert error.value.code == "reference_url_too_large"


def test_an_undeclared_large_body_is_cut_off(http_server):
    def stream(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "image/jpeg")
        handler.end_headers()
        for _ in range(40):
            handler.wfile.write(b"x" * 64 * 1024)

    http_server.route("/endless.jpg", stream)
    with pytest.raises(ReferenceFetchError) as error:
        fetch_image(http_server.url("/endless.jpg"), max_bytes=MB, allow=_only("127.0.0.1"))
    assert error.value.code == "reference_url_too_large"


def test_a_page_that_is_not_an_image_is_refused(http_server):
    http_server.image("/page", b"<html></html>", content_type="text/html")
    with pytest.raises(ReferenceFetchError) as error:
        fetch_image(http_server.url("/page"), max_bytes=MB, allow=_only("127.0.0.1"))
    assert error.value.code == "reference_url_not_image"


def test_a_slow_server_is_dropped_at_the_deadline(http_server):
    def drip(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "image/jpeg")
        handler.end_headers()
        try:
            for _ in range(30):
                handler.wfile.write(b"x")
                handler.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass

    http_server.route("/slow.jpg", drip)
    started = time.monotonic()
    with pytest.raises(ReferenceFetchError) as error:
        fetch_image(
            http_server.url("/slow.jpg"), max_bytes=MB, timeout=1.0, allow=_only("127.0.0.1")
        )
    assert error.value.code == "reference_url_timeout"
    assert time.monotonic() - started < 3


def test_an_error_status_is_reported(http_server):
    with pytest.raises(ReferenceFetchError) as error:
        fetch_image(http_server.url("/missing.jpg"), max_bytes=MB, allow=_only("127.0.0.1"))
    assert error.value.code == "reference_url_unreachable"
    assert "404" in error.value.message
