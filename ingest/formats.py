"""Recognise input formats by their first bytes, never by the file name."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    media_type: str
    label: str
    is_scan: bool


PNG = Format("image/png", "PNG", True)
JPEG = Format("image/jpeg", "JPEG", True)
TIFF = Format("image/tiff", "TIFF", True)
PDF = Format("application/pdf", "PDF", False)
XML = Format("application/xml", "XML", False)

_SIGNATURES: list[tuple[bytes, Format]] = [
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
    (b"II+\x00", TIFF),  # BigTIFF
    (b"MM\x00+", TIFF),
    (b"%PDF-", PDF),
    (b"<?xml", XML),
    (b"\xef\xbb\xbf<?xml", XML),  # with a UTF-8 byte order mark
    (b"<edXML", XML),
]
HEADER_BYTES = 16


def detect_format(header: bytes) -> Format | None:
    for signature, fmt in _SIGNATURES:
        if header.startswith(signature):
            return fmt
    return None
