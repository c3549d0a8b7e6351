"""Remove a JPEG's metadata without re-encoding it.

A phone photo carries EXIF (GPS, camera serials), XMP, IPTC and comments, and sometimes
a second picture (an MPO preview or gain map) or a video appended after the image. We
keep the member's own pixels byte for byte, so the photo loses no quality and costs no
encode, and drop everything else. Kept: the coding segments, JFIF (density), Adobe
(colour transform: without it some files decode with the wrong colours) and the ICC
profile (what the colours mean).
"""

from __future__ import annotations

SOI, EOI, SOS, COM = 0xD8, 0xD9, 0xDA, 0xFE
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM and RST0-7 carry no length


class NotAJpeg(ValueError):
    pass


def _kept(marker: int, payload: bytes) -> bool:
    if marker == 0xE0:
        return payload.startswith(b"JFIF\x00")  # not JFXX: it holds a thumbnail
    if marker == 0xE2:
        return payload.startswith(b"ICC_PROFILE\x00")  # not MPF (more pictures) or FPXR
    if marker == 0xEE:
        return True  # Adobe
    return not (0xE0 <= marker <= 0xEF or marker == COM)


def strip_metadata(data: bytes) -> bytes:
    """The first picture of `data` with only the segments that decode it; NotAJpeg when
    the structure is broken (the caller then decodes and re-encodes, or refuses)."""
    view = memoryview(data)
    size = len(data)
    if data[:2] != b"\xff\xd8":
        raise NotAJpeg("no start of image")
    parts: list[bytes | memoryview] = [b"\xff\xd8"]
    pos = 2
    while True:
        if pos >= size or data[pos] != 0xFF:
            raise NotAJpeg("expected a marker")
        while pos < size and data[pos] == 0xFF:  # fill bytes may precede any marker
            pos += 1
        if pos >= size:
            raise NotAJpeg("truncated")
        marker = data[pos]
        pos += 1
        if marker == EOI:
            parts.append(b"\xff\xd9")
            return b"".join(parts)
        if marker in _STANDALONE:
            parts.append(bytes((0xFF, marker)))
            continue
        if marker == SOI or pos + 2 > size:
            raise NotAJpeg("unexpected marker")
        end = pos + int.from_bytes(data[pos : pos + 2], "big")
        if end <= pos + 1 or end > size:
            raise NotAJpeg("bad segment length")
        if _kept(marker, data[pos + 2 : min(end, pos + 16)]):
            parts.append(view[pos - 2 : end])
        pos = end
        if marker == SOS:
            pos = _end_of_scan(data, pos)
            parts.append(view[end:pos])


def _end_of_scan(data: bytes, pos: int) -> int:
    """Where the entropy-coded data after a scan header ends: the first 0xFF that starts
    a real marker (0xFF00 is a stuffed byte, 0xFFD0-D7 a restart inside the scan)."""
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            raise NotAJpeg("truncated scan")
        following = data[pos + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            pos += 2
        elif following == 0xFF:
            pos += 1
        else:
            return pos
