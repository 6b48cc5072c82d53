"""Evidence files as the domain sees them: photos or scans a browser shows, told by their first bytes."""
from __future__ import annotations

from engine.domain.errors import BadInput

# An evidence file is a photo or a scan the township, the county and the inspector open in a browser
# (Chromium, Chrome, 360): JPEG, PNG, WebP, GIF or PDF, told by its first bytes whatever its name says.
# An iPhone's HEIC photo is told apart: no browser here shows it, and the phone exports it as JPEG.
SCAN_HEAD = 1024                 # bytes read: a PDF's header may come anywhere in its first 1024
SCAN_MEDIA = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif",
              "pdf": "application/pdf"}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}


def scan_kind(head: bytes) -> str | None:
    """The kind of photo or scan a file is, from its first SCAN_HEAD bytes (a key of SCAN_MEDIA), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if b"%PDF-" in head[:SCAN_HEAD]:
        return "pdf"
    return None


def refuse_non_scan(name: str, head: bytes) -> None:
    """A file (its name as given, its first bytes) that is no photo or scan a browser shows is refused,
    saying what is accepted (a HEIC photo: how to export it as JPG)."""
    if scan_kind(head) is not None:
        return
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        raise BadInput("evidence.heic", file=name)
    raise BadInput("evidence.not_a_scan", file=name)
