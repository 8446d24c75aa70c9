import pytest

from ingest.formats import JPEG, PDF, PNG, TIFF, detect_format


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", PNG),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", JPEG),
        (b"II*\x00\x08\x00", TIFF),
        (b"MM\x00*\x00\x00", TIFF),
        (b"%PDF-1.7\n", PDF),
        (b"GIF89a", None),
        (b"", None),
        (b"\x89PNG", None),  # truncated signature
    ],
)
def test_detect_format_by_leading_bytes(header: bytes, expected) -> None:
    assert detect_format(header) == expected
