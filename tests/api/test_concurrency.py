"""What one process at a time never shows, on SQLite and on PostgreSQL: two ingests of
overlapping batches at once, and index rebuilds swapped in while an ingest runs. Real
`luutru` processes, real tesseract, the real databases."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import func, select

from api.services import Services
from archive.home import ArchiveHome
from archive.models import AccessLevel, FileRole, LogEntry, Record
from archive.repository import Archive, Description, IncomingFile, Placement
from ingest.contracts import IngestResult, IngestSettings, Status
from ingest.sample_scans import find_font
from search import indexer
from search.engines import engine, open_current
from search.indexer import differences, index_records
from tests.conftest import ingest_lines, start_ingest


def _scans(folder: Path, count: int) -> list[Path]:
    """Small one-line scans, each its own document: quick to OCR, distinct originals."""
    folder.mkdir()
    font = ImageFont.truetype(str(find_font()), 44)
    written = []
    for n in range(count):
        page = Image.new("L", (1400, 260), 255)
        ImageDraw.Draw(page).text((60, 90), f"Công văn số {n + 1}/UBND về đê điều", font=font)
        target = folder / f"cv-{n + 1:02d}.png"
        page.save(target, dpi=(200, 200))
        written.append(target)
    return written


def _verified(home: ArchiveHome) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "--home", str(home.root), "verify"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def _index_matches_archive(home: ArchiveHome) -> None:
    with Archive.open(home) as archive:
        index = open_current(home.index_dir, engine(archive.settings.search_engine))
        assert index is not None
        try:
            assert differences(archive, index) == ([], [])
        finally:
            index.close()


def test_two_ingests_of_overlapping_batches_at_once_seal_each_file_once(
    archive_home: ArchiveHome, tmp_path: Path
) -> None:
    scans = _scans(tmp_path / "scans", 10)
    first = start_ingest(archive_home, scans[:7], "--access", "public")
    second = start_ingest(archive_home, scans[3:], "--access", "public")
    lines = ingest_lines(first) + ingest_lines(second)

    by_file: dict[str, list[str | None]] = {}
    for line in lines:
        by_file.setdefault(Path(str(line["path"])).name, []).append(line["status"])
    assert sorted(by_file) == sorted(scan.name for scan in scans)
    for name, statuses in by_file.items():
        # Both runs met cv-04..07: one sealed it, the other found it archived.
        assert statuses.count("sealed") == 1, (name, statuses)
        assert set(statuses) <= {"sealed", "duplicate"}, (name, statuses)
    with Archive.open(archive_home) as archive, archive.session() as session:
        assert session.scalar(select(func.count()).select_from(Record)) == len(scans)
        assert session.scalar(select(func.count()).select_from(LogEntry)) == len(scans)
    _index_matches_archive(archive_home)
    _verified(archive_home)


def _seal_many(home: ArchiveHome, count: int) -> None:
    """Records to give a rebuild something to do, sealed without OCR."""
    with Archive.open(home) as archive:
        for n in range(count):
            _seal_one(archive, n)


def _seal_one(archive: Archive, n: int) -> str:
    return archive.seal(
        [
            IncomingFile(FileRole.ORIGINAL, "image/png", f"{n}.png", data=b"scan %d" % n),
            IncomingFile(
                FileRole.OCR_TEXT,
                "text/plain; charset=utf-8",
                "t.txt",
                data=f"Hồ sơ đê điều số {n}".encode(),
            ),
        ],
        Description(title=f"Hồ sơ số {n}", issued_date=date(2019, 5, 1)),
        Placement(access=AccessLevel.PUBLIC, series_code="HS", closed_year=2019),
        f"{n}.png",
    ).record_id


def _reindex(home: ArchiveHome) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "--home", str(home.root), "reindex"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_an_ingest_indexes_into_the_generation_a_rebuild_swapped_in_meanwhile(
    archive_home: ArchiveHome, tmp_path: Path
) -> None:
    _seal_many(archive_home, 40)
    scans = _scans(tmp_path / "scans", 3)
    swaps: list[IngestResult] = []

    def rebuild_after_the_first(result: IngestResult) -> None:
        if not swaps:  # another process swaps in a new generation; this run goes on
            _reindex(archive_home)
            swaps.append(result)

    with Services.open(archive_home) as services:
        report = services.ingest(
            scans, IngestSettings(access=AccessLevel.PUBLIC), 1, rebuild_after_the_first
        )
    assert [r.status for r in report.results] == [Status.SEALED] * len(scans)
    assert swaps and not report.not_indexed and report.index_problem is None
    _index_matches_archive(archive_home)


def test_a_rebuild_indexes_what_an_ingest_sealed_while_it_ran(archive_home: ArchiveHome) -> None:
    _seal_many(archive_home, 40)
    with Services.open(archive_home) as services:
        in_use = services.index  # what an ingest running meanwhile indexes into
        sealed: list[str] = []

        def seal_meanwhile(done: int, total: int) -> None:
            if not sealed:  # after the rebuild read what to index, before it swaps
                sealed.append(_seal_one(services.archive, 1000))
                index_records(services.archive, in_use, sealed)

        indexer.rebuild(services.archive, archive_home.index_dir, services.engine, seal_meanwhile)
    assert sealed
    _index_matches_archive(archive_home)
    _verified(archive_home)
