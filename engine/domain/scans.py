"""Evidence files as the domain sees them: photos or scans a browser shows, told by their first bytes,
whole (ending as their format ends) and not larger than a phone's photo or a scanned form need be."""
from __future__ import annotations

from typing import BinaryIO

from engine.domain.errors import BadInput

# An evidence file is a photo or a scan the township, the county and the inspector open in a browser
# (Chromium, Chrome, 360): JPEG, PNG, WebP, GIF or PDF, told by its first bytes whatever its name says.
# An iPhone's HEIC photo is told apart: no browser here shows it, and the phone exports it as JPEG.
SCAN_HEAD = 1024                 # bytes read: a PDF's header may come anywhere in its first 1024
SCAN_TAIL = 1024                 # bytes read at the end: a PDF's %%EOF comes in its last 1024
# The largest evidence file, whichever way it comes: the web's form and API, `evidence add --file`,
# `problem add --file` (directly or through --server) and an evidence sheet's folder or zip.
SCAN_MAX = 20 * 1024 * 1024
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


def refuse_too_big(name: str, size: int) -> None:
    """A file (its name as given) of more than SCAN_MAX bytes is refused, saying how to make it smaller."""
    if size > SCAN_MAX:
        raise BadInput("evidence.too_big", file=name, mb=SCAN_MAX // (1024 * 1024))


def refuse_cut_short(name: str, kind: str, fh: BinaryIO, size: int) -> None:
    """A photo or scan of `kind` (scan_kind; `fh` its content, `size` its bytes) that ends before its
    format says it does is refused: a WeChat forward or a transfer broken off leaves the township and
    the inspector a picture that does not open where the signed form should be."""
    fh.seek(max(0, size - SCAN_TAIL))
    tail = fh.read(SCAN_TAIL)
    if kind == "png":
        whole = b"IEND\xaeB`\x82" in tail                     # the IEND chunk (and its CRC) closes a PNG
    elif kind == "gif":
        whole = tail.endswith(b"\x00;")                        # the last block's terminator, then the trailer
    elif kind == "webp":
        fh.seek(4)
        whole = size >= int.from_bytes(fh.read(4), "little") + 8    # RIFF's size: the bytes after its first 8
    elif kind == "pdf":
        whole = b"%%EOF" in tail
    else:
        whole = _jpeg_whole(fh, size, tail)
    if not whole:
        raise BadInput("evidence.cut_short", file=name)


def _jpeg_whole(fh: BinaryIO, size: int, tail: bytes) -> bool:
    """A JPEG ends with FFD9 (EOI) after its image's first scan (SOS), whose segments (an EXIF thumbnail,
    with an FFD9 of its own, among them) come first, each with its length. A phone's "motion photo"
    goes on past that end with a video: its FFD9 is then looked for through the file."""
    at = 2
    while True:                                   # the segments before the scan: FF, marker, length
        fh.seek(at)
        segment = fh.read(4)
        if len(segment) < 4:
            return False                          # cut inside its header segments
        if segment[0] != 0xFF:                    # bytes no segment accounts for: read by its end alone
            return b"\xff\xd9" in tail
        if segment[1] == 0xFF:                    # a fill byte
            at += 1
        elif 0xD0 <= segment[1] <= 0xD9 or segment[1] == 0x01:     # a marker without a length
            at += 2
        elif segment[1] == 0xDA:
            break
        else:
            at += 2 + int.from_bytes(segment[2:4], "big")
    if size - len(tail) >= at and b"\xff\xd9" in tail:
        return True
    fh.seek(at)
    last = b""
    while chunk := fh.read(1 << 20):
        if b"\xff\xd9" in last[-1:] + chunk:
            return True
        last = chunk
    return False
