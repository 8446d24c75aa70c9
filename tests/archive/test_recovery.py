"""A database restored from an older backup, or emptied: what the blob store still holds of
the records it lost is damage to report and to restore, never orphans to delete."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from archive.errors import DatabaseMissing, SigningKeyError
from archive.fixity import audit_archive
from archive.home import ArchiveHome
from archive.models import AccessLevel
from archive.recovery import census, restore_all
from archive.repository import Archive
from archive.revision import history, revise_record
from tests.archive.conftest import SealScan
from tests.conftest import run_cli

# The backups of these tests are SQLite files: a database restored from an older copy.
pytestmark = pytest.mark.sqlite_only


def _backup(home: ArchiveHome, target: Path) -> None:
    with sqlite3.connect(home.root / "luutru.db") as source, sqlite3.connect(target) as copy:
        source.backup(copy)


def _restore(home: ArchiveHome, backup: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        (home.root / f"luutru.db{suffix}").unlink(missing_ok=True)
    shutil.copy(backup, home.root / "luutru.db")


def _age_blobs(home: ArchiveHome, days: float = 2) -> None:
    then = time.time() - days * 86400
    for path in home.blobs_dir.rglob("*"):
        os.utime(path, (then, then), follow_symlinks=False)


@pytest.fixture
def restored(archive: Archive, seal_scan: SealScan, tmp_path: Path) -> tuple[Archive, str, str]:
    """Record A sealed before the nightly backup; record B after it, then edited; then the
    backup was put back."""
    first = tmp_path / "a.png"
    first.write_bytes(b"scan of record A")
    kept = seal_scan(first).record_id
    _backup(archive.home, tmp_path / "backup.db")
    later = tmp_path / "b.png"
    later.write_bytes(b"scan of record B")
    lost = seal_scan(later).record_id
    revise_record(archive, lost, {"access": "secret"}, "chứa thông tin mật", "lanh.dao")
    archive.close()
    _restore(archive.home, tmp_path / "backup.db")
    _age_blobs(archive.home)
    return Archive.open(archive.home), kept, lost


def test_a_lost_record_is_found_and_its_blobs_are_not_orphans(restored) -> None:
    archive, _, lost = restored
    found = census(archive, older_than=86400)
    assert sorted(found.lost) == [lost]
    assert found.lost[lost].restorable and len(found.lost[lost].manifests) == 2
    assert found.orphans == []  # nothing of record B may be removed
    archive.close()


def test_verify_says_damage_and_repair_restores_the_record_as_sealed(restored) -> None:
    archive, _, lost = restored
    home = archive.home
    archive.close()
    done = run_cli("verify", "--json", home=home)
    assert done.returncode == 5
    report = json.loads(done.stdout)
    assert report["lost"] == [lost] and lost in report["damaged"]
    assert any("older backup" in p for p in report["problems"])
    repaired = run_cli("verify", "--repair", home=home)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert f"restored record {lost}" in repaired.stderr
    with Archive.open(home) as archive:
        record = archive.get(lost, AccessLevel.SECRET)
        assert record.access == "secret"  # as last sealed, not as first ingested
        assert [c["field"] for c in history(archive, lost)] == ["access"]
        assert audit_archive(archive, record_events=False).ok
    assert run_cli("verify", home=home).returncode == 0


def test_a_database_restored_from_before_an_edit_is_said_and_the_edit_kept(
    archive: Archive, seal_scan: SealScan, tmp_path: Path
) -> None:
    """The record was made secret after the backup; the backup put back says public. The
    signed revision is still in the blob store: said, and never removed as an orphan."""
    scan = tmp_path / "a.png"
    scan.write_bytes(b"scan of record A")
    record_id = seal_scan(scan).record_id
    _backup(archive.home, tmp_path / "backup.db")
    revise_record(archive, record_id, {"access": "secret"}, "chứa thông tin mật", "lanh.dao")
    revision = archive.get(record_id, AccessLevel.SECRET).seal.manifest_sha256
    archive.close()
    _restore(archive.home, tmp_path / "backup.db")
    _age_blobs(archive.home)
    with Archive.open(archive.home) as reopened:
        found = census(reopened, older_than=86400)
        assert found.ahead == {record_id: [revision]}
        assert revision not in found.orphans
    repaired = run_cli("verify", "--repair", "--json", home=archive.home)
    answer = json.loads(repaired.stdout)
    assert answer["newer_revisions"] == [record_id]
    assert any(f"record {record_id}: the blob store holds a signed revision" in w
               for w in answer["warnings"])  # fmt: skip
    with Archive.open(archive.home) as reopened:
        assert reopened.blobs.exists(revision)


def test_a_lost_record_without_its_seal_statement_is_only_reported(restored) -> None:
    archive, _, lost = restored
    found = census(archive)
    statement = next(
        sha
        for sha in archive.blobs.iter_hashes()
        if b"luutru-seal/1" in archive.blobs.read_bytes(sha)[:200]
        and found.lost[lost].manifests[-1].encode() in archive.blobs.read_bytes(sha)
    )
    archive.blobs.discard(statement)
    found = census(archive, older_than=86400)
    assert not found.lost[lost].restorable
    assert restore_all(archive, found) == ([], [lost])
    assert found.orphans == []  # still nothing of it is removed
    archive.close()


def test_a_seal_that_loses_a_race_leaves_no_lost_record(
    archive: Archive, seal_scan: SealScan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes seal the same scan: the second checked for a duplicate before the first
    committed. Its manifest is left behind, naming the record that exists, and nothing is
    reported lost (it once took the longer id and named a record no database has)."""
    scan = tmp_path / "same.png"
    scan.write_bytes(b"one scan, ingested twice at once")
    first = seal_scan(scan)
    # The first look finds nothing (the other process had not committed); the commit's own
    # duplicate check then finds the record.
    calls = iter([None])
    real = archive.find_by_original
    monkeypatch.setattr(archive, "find_by_original", lambda sha: next(calls, real(sha)))
    second = seal_scan(scan)
    assert second.duplicate and second.record_id == first.record_id
    found = census(archive)
    assert found.lost == {}
    assert archive.record_ids() == [first.record_id]


def test_init_refuses_an_emptied_database_beside_records(
    archive: Archive, seal_scan: SealScan, tmp_path: Path
) -> None:
    scan = tmp_path / "a.png"
    scan.write_bytes(b"scan")
    seal_scan(scan)
    archive.close()
    for suffix in ("-wal", "-shm"):
        (archive.home.root / f"luutru.db{suffix}").unlink(missing_ok=True)
    (archive.home.root / "luutru.db").write_bytes(b"")
    with pytest.raises(DatabaseMissing, match="missing, empty or not luutru's"):
        Archive.initialise(archive.home)


def test_a_private_key_of_another_archive_never_signs(
    home: ArchiveHome, seal_scan: SealScan, tmp_path: Path
) -> None:
    other = ArchiveHome(tmp_path / "other")
    Archive.initialise(other)
    shutil.copy(other.keys_dir / "archive-ed25519.pem", home.keys_dir / "archive-ed25519.pem")
    scan = tmp_path / "s.png"
    scan.write_bytes(b"scan")
    with Archive.open(home) as archive, pytest.raises(SigningKeyError, match="not the pair"):
        archive.seal(*_args(scan))
    with Archive.open(home) as archive:
        assert archive.count_records() == 0


def _args(source: Path) -> tuple:
    from archive.models import FileRole
    from archive.repository import Description, IncomingFile, Placement

    return (
        [IncomingFile(FileRole.ORIGINAL, "image/png", source.name, path=source)],
        Description(title="t"),
        Placement(),
        source.name,
    )
