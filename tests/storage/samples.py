"""Small, valid sample files built in memory (no binary fixtures in the repository)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

PDF = (
    b"%PDF-1.4\n"
    b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"trailer << /Root 1 0 R >>\n"
    b"%%EOF\n"
)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png() -> bytes:
    """A 1×1 grey PNG."""
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00\x80")
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat)
            + _png_chunk(b"IEND", b""))


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 32 + b"\xff\xd9"


def mp4(extra: int = 64) -> bytes:
    """An ftyp box (isom) followed by an mdat box of ``extra`` bytes."""
    ftyp = b"ftyp" + b"isom" + struct.pack(">I", 0x200) + b"isomiso2mp41"
    mdat = b"mdat" + b"\x00" * extra
    return struct.pack(">I", len(ftyp) + 4) + ftyp + struct.pack(">I", len(mdat) + 4) + mdat


WEBM = (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08"
        b"\x42\x82\x84webm\x42\x87\x81\x04\x42\x85\x81\x02" + b"\x00" * 32)

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64 + b"This program"


def _zip(entries: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in entries.items():
            archive.writestr(name, text)
    return buf.getvalue()


_TYPES = '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
_RELS = '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>'


def docx(*, macros: bool = False, types_first: bool = True) -> bytes:
    entries = {"[Content_Types].xml": _TYPES, "_rels/.rels": _RELS,
               "word/document.xml": "<w:document/>"}
    if not types_first:  # the order LibreOffice and others may use
        entries = {"_rels/.rels": _RELS, "docProps/app.xml": "<Properties/>",
                   "docProps/core.xml": "<cp/>", "customXml/item1.xml": "<x/>",
                   "word/document.xml": "<w:document/>", "[Content_Types].xml": _TYPES}
    if macros:
        entries["word/vbaProject.bin"] = "binario"
    return _zip(entries)


def pptx() -> bytes:
    return _zip({"[Content_Types].xml": _TYPES, "_rels/.rels": _RELS,
                 "ppt/presentation.xml": "<p:presentation/>"})


def plain_zip() -> bytes:
    return _zip({"notas.txt": "hola", "otra/cosa.txt": "chao"})
