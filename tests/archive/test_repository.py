from datetime import timedelta
from pathlib import Path

import pytest

from archive.errors import ArchiveHomeMissing, RecordNotFound
from archive.home import ArchiveHome
from archive.models import AccessLevel
from archive.repository import Archive
from tests.archive.conftest import SealScan


def test_seal_then_read_back(archive: Archive, seal_scan: SealScan, tmp_path: Path) -> None:
    source = tmp_path / "scan.png"
    source.write_bytes(b"scan")
    outcome = seal_scan(source)
    assert not outcome.duplicate
    record = archive.get(outcome.record_id, AccessLevel.PUBLIC)
    assert record.title == "Công văn"
    assert record.series_code == "VP-01"
    assert {f.role for f in record.files} == {"original", "ocr-text"}
    assert archive.text_of(record) == "Chính phủ"
    assert record.seal is not None and record.seal.key_id == archive.verifier().key_id


def test_same_original_twice_is_a_duplicate(
    archive: Archive, seal_scan: SealScan, tmp_path: Path
) -> None:
    source = tmp_path / "scan.png"
    source.write_bytes(b"scan")
    first = seal_scan(source)
    second = seal_scan(source)
    assert second.duplicate and second.record_id == first.record_id
    assert archive.count_records() == 1


def test_restricted_record_reads_as_absent(
    archive: Archive, seal_scan: SealScan, tmp_path: Path
) -> None:
    source = tmp_path / "secret.png"
    source.write_bytes(b"secret scan")
    outcome = seal_scan(source, AccessLevel.CONFIDENTIAL)
    with pytest.raises(RecordNotFound) as restricted:
        archive.get(outcome.record_id, AccessLevel.INTERNAL)
    with pytest.raises(RecordNotFound) as absent:
        archive.get("f" * 24, AccessLevel.INTERNAL)
    assert type(restricted.value) is type(absent.value)
    assert archive.get(outcome.record_id, AccessLevel.SECRET).id == outcome.record_id


def test_quarantine_keeps_a_copy_and_the_reason_and_leaves_the_input(
    archive: Archive, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    before = bad.stat()
    entry = archive.quarantine(bad, "not a readable image")
    assert bad.read_bytes() == b"not an image" and bad.stat().st_mtime == before.st_mtime
    folder = archive.quarantine_shelf.folder_for(str(bad))
    assert (folder / "kept" / "bad.png").read_bytes() == b"not an image"
    assert archive.quarantine_shelf.kept_copy(entry) == folder / "kept" / "bad.png"
    assert "not a readable image" in (folder / "REASON.txt").read_text()
    assert (folder / "REASON.txt").stat().st_mode & 0o077 == 0
    assert [q.reason for q in archive.quarantined()] == ["not a readable image"]
    assert archive.count_records() == 0


def test_opening_a_missing_home_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(ArchiveHomeMissing, match="init"):
        Archive.open(ArchiveHome(tmp_path / "nowhere"))


def test_initialise_is_idempotent_and_keeps_the_key(tmp_path: Path) -> None:
    home = ArchiveHome(tmp_path / "h")
    first = Archive.initialise(home)
    second = Archive.initialise(home)
    assert first.created_key and not second.created_key
    assert first.key_id == second.key_id


def test_times_read_back_as_aware_utc(
    archive: Archive, seal_scan: SealScan, tmp_path: Path
) -> None:
    source = tmp_path / "scan.png"
    source.write_bytes(b"scan")
    record = archive.get(seal_scan(source).record_id, AccessLevel.PUBLIC)
    assert record.ingested_at.utcoffset() == timedelta(0)
    assert record.seal is not None and record.seal.sealed_at == record.ingested_at


def test_the_same_bad_file_twice_is_one_quarantine_entry(archive: Archive, tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"junk")
    archive.quarantine(bad, "first reason")
    archive.quarantine(bad, "second reason")
    assert [q.reason for q in archive.quarantined()] == ["second reason"]
    bad.write_bytes(b"other junk")
    archive.quarantine(bad, "new bytes")
    [entry] = archive.quarantined()
    assert entry.reason == "new bytes" and entry.size == len(b"other junk")
    assert archive.quarantine_shelf.kept_copy(entry).read_bytes() == b"other junk"  # type: ignore[union-attr]
