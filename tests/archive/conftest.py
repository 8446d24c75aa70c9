from collections.abc import Callable
from pathlib import Path

import pytest

from archive.home import ArchiveHome
from archive.models import AccessLevel, FileRole
from archive.repository import Archive, Description, IncomingFile, Placement, SealOutcome

SealScan = Callable[..., SealOutcome]


@pytest.fixture
def home(archive_home: ArchiveHome) -> ArchiveHome:
    """The archive suite runs on SQLite and on PostgreSQL (``tests/backends.py``)."""
    return archive_home


@pytest.fixture
def seal_scan(archive: Archive) -> SealScan:
    """Seal ``source`` with a small OCR text, as ingest would."""

    def seal(source: Path, access: AccessLevel = AccessLevel.PUBLIC) -> SealOutcome:
        return archive.seal(
            [
                IncomingFile(FileRole.ORIGINAL, "image/png", source.name, path=source),
                IncomingFile(
                    FileRole.OCR_TEXT,
                    "text/plain; charset=utf-8",
                    "t.txt",
                    data="Chính phủ".encode(),
                ),
            ],
            Description(title="Công văn"),
            Placement(access=access, series_code="VP-01", closed_year=2019),
            source.name,
        )

    return seal
