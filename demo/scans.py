"""The demo's "scans": small one-page PDFs holding a form's words, as a phone's scan app makes of a
signed paper (evidence files are photos or scans a browser shows: engine.domain.evidence)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

# Adobe's Song face for simplified Chinese, named and not embedded (every PDF reader has one for it):
# a page of text stays a few hundred bytes. UniGB-UCS2-H reads each character as its UCS-2 code.
_FONT = (b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H"
         b" /DescendantFonts [6 0 R] >>",
         b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light"
         b" /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >>"
         b" /FontDescriptor 7 0 R /DW 1000 /W [1 95 500] >>",
         b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880]"
         b" /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>")


def scan_pdf(lines: Sequence[str]) -> bytes:
    """An A5 page with `lines` (the first as a title), as PDF bytes."""
    text = [b"BT /F1 18 Tf 50 540 Td <%s> Tj ET" % lines[0].encode("utf-16-be").hex().encode()]
    text += [b"BT /F1 12 Tf 50 %d Td <%s> Tj ET" % (500 - 24 * i, line.encode("utf-16-be").hex().encode())
             for i, line in enumerate(lines[1:])]
    stream = b"\n".join(text)
    objects = (b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 420 595] /Contents 4 0 R"
               b" /Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream)) + _FONT
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def write_scan(path: Path, *lines: str) -> Path:
    """`scan_pdf(lines)` written at `path`; returns the path."""
    path.write_bytes(scan_pdf(lines))
    return path


if __name__ == "__main__":          # python -m demo.scans FILE LINE...: a stand-in for a photographed form
    import sys
    write_scan(Path(sys.argv[1]), *(sys.argv[2:] or [Path(sys.argv[1]).stem]))
